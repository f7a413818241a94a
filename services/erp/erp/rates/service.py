"""Cost rates per person, bill rates per project, capacity per person: each a dated series (a new row from a
date on; an existing start date is a conflict, so history is never silently rewritten)."""

import uuid
from datetime import date

from erp.projects.api import get_project
from erp.rates.models import BillRate, Capacity, CostRate
from erp.rates.repository import RateRepository, Row
from erp.rates.schemas import BillRateIn, CapacityIn, CostRateIn
from throughline_events.money import check_amount
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable


async def create_cost_rate(uow: UnitOfWork, body: CostRateIn) -> CostRate:
    try:
        hourly = check_amount(body.hourly_cost, body.currency, field="hourly_cost")
    except ValueError as exc:
        raise Unprocessable(str(exc), type_slug="invalid-money") from None
    rates = RateRepository(uow.session)
    if await rates.at(CostRate, body.user_id, body.effective_from) is not None:
        raise Conflict(f"User {body.user_id} already has a cost rate from {body.effective_from}.")
    rate = CostRate(id=uuid.uuid4(), user_id=body.user_id, hourly_cost=hourly, currency=body.currency,
                    effective_from=body.effective_from)
    rates.add(rate)
    await uow.commit()
    return rate


async def effective_cost_rate(uow: UnitOfWork, user_id: str, on: date) -> CostRate:
    rate = await RateRepository(uow.session).effective(CostRate, user_id, on)
    if rate is None:
        raise NotFound(f"User {user_id} has no cost rate on {on}.")
    return rate


async def create_bill_rate(uow: UnitOfWork, project_id: uuid.UUID, body: BillRateIn) -> BillRate:
    project = await get_project(uow, project_id)
    try:
        hourly = check_amount(body.hourly_rate, project.currency, field="hourly_rate")
    except ValueError as exc:
        raise Unprocessable(str(exc), type_slug="invalid-money") from None
    rates = RateRepository(uow.session)
    if await rates.at(BillRate, project_id, body.effective_from) is not None:
        raise Conflict(f"Project {project_id} already has a bill rate from {body.effective_from}.")
    rate = BillRate(id=uuid.uuid4(), project_id=project_id, hourly_rate=hourly, effective_from=body.effective_from)
    rates.add(rate)
    await uow.commit()
    return rate


async def bill_rates_of(uow: UnitOfWork, project_id: uuid.UUID) -> list[BillRate]:
    await get_project(uow, project_id)  # 404 for a project that does not exist, not an empty list
    items, _ = await RateRepository(uow.session).search(BillRate, project_id, 200, 0)
    return items


async def create_capacity(uow: UnitOfWork, body: CapacityIn) -> Capacity:
    rates = RateRepository(uow.session)
    if await rates.at(Capacity, body.user_id, body.effective_from) is not None:
        raise Conflict(f"User {body.user_id} already has a capacity from {body.effective_from}.")
    capacity = Capacity(id=uuid.uuid4(), user_id=body.user_id, hours_per_week=body.hours_per_week,
                        effective_from=body.effective_from)
    rates.add(capacity)
    await uow.commit()
    return capacity


async def delete_row(uow: UnitOfWork, model: type[Row], row_id: uuid.UUID) -> None:
    rates = RateRepository(uow.session)
    row = await rates.get(model, row_id)
    if row is None:
        raise NotFound(f"{model.__name__} {row_id} does not exist.")
    await rates.delete(row)
    await uow.commit()
