"""The people directory: persons made from the gateway's users (handlers.py), their department and cost center, and
their weekly capacity, cost rate and list rate, each a dated series kept in `erp.rates` (a change adds an entry from
a date on; history is never rewritten, except an entry of the same start date, which a change corrects).

`require_active_person` is the one check that a time entry, an expense or a booking names someone the ERP knows
and who is active."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from erp.clock import today
from erp.cost_centers.api import usable_cost_center
from erp.people.models import Person
from erp.people.repository import PersonRepository
from erp.people.schemas import CapacityOut, PersonDetail, PersonOut, PersonPatch, RateIn, RateOut
from erp.policy import POLICY, Action
from erp.rates.api import Capacity, CostRate, ListRate, PersonRow, RateRepository
from throughline_events.money import check_amount
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import NotFound, Unprocessable


async def names_of(session: AsyncSession, person_ids: set[str]) -> dict[str, str]:
    """The names of these people, in one query (an id the directory does not know is left out)."""
    return await PersonRepository(session).names(person_ids) if person_ids else {}


async def require_active_person(session: AsyncSession, person_id: str) -> Person:
    """The person `person_id` names, if the ERP knows them and they are active; a 422 problem otherwise (so the
    request that names them writes nothing)."""
    person = await PersonRepository(session).get(person_id)
    if person is None:
        raise Unprocessable(f"There is no person {person_id!r}: time and expenses are booked for the users of the "
                            "gateway (their people appear here within a moment of their creation).",
                            type_slug="unknown-person")
    if not person.active:
        raise Unprocessable(f"{person.name or person.id} is deactivated: nothing more is booked for them.",
                            type_slug="inactive-person")
    return person


def may_read_cost_rate(principal: Principal, person_id: str) -> bool:
    """Everyone's cost rate for finance and admin; one's own for anybody."""
    return person_id == principal.user_id or POLICY.allows(principal.role, Action.COST_RATES_READ)


def _cost(rate: CostRate) -> RateOut:
    return RateOut(hourly_rate=rate.hourly_cost, currency=rate.currency, effective_from=rate.effective_from)


def _list(rate: ListRate) -> RateOut:
    return RateOut(hourly_rate=rate.hourly_rate, currency=rate.currency, effective_from=rate.effective_from)


def _capacity(capacity: Capacity) -> CapacityOut:
    return CapacityOut(hours_per_week=capacity.hours_per_week, effective_from=capacity.effective_from)


def _fields(person: Person) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "email": person.email, "role": person.role,
            "active": person.active, "department": person.department, "cost_center_id": person.cost_center_id,
            "updated_at": person.updated_at}


async def list_people(uow: UnitOfWork, principal: Principal, *, q: str | None, active: bool | None,
                      department: str | None, cost_center_id: uuid.UUID | None, limit: int,
                      offset: int) -> tuple[list[PersonOut], int]:
    people, total = await PersonRepository(uow.session).search(q=q, active=active, department=department,
                                                               cost_center_id=cost_center_id, limit=limit,
                                                               offset=offset)
    ids = [p.id for p in people]
    on = today()
    rates = RateRepository(uow.session)
    # One query per series for the whole page; cost rates only of the people the caller may see them of.
    capacities = await rates.in_force(Capacity, ids, on)
    list_rates = await rates.in_force(ListRate, ids, on)
    cost_rates = await rates.in_force(CostRate, [i for i in ids if may_read_cost_rate(principal, i)], on)
    items = []
    for person in people:
        capacity, list_rate, cost_rate = (capacities.get(person.id), list_rates.get(person.id),
                                          cost_rates.get(person.id))
        items.append(PersonOut(
            **_fields(person), weekly_capacity=_capacity(capacity) if capacity else None,
            list_rate=_list(list_rate) if list_rate else None, cost_rate=_cost(cost_rate) if cost_rate else None,
            cost_rate_visible=may_read_cost_rate(principal, person.id)))
    return items, total


async def get_person(uow: UnitOfWork, principal: Principal, person_id: str) -> PersonDetail:
    person = await PersonRepository(uow.session).get(person_id)
    if person is None:
        raise NotFound(f"Person {person_id} does not exist.")
    return await _detail(uow, principal, person)


async def _detail(uow: UnitOfWork, principal: Principal, person: Person) -> PersonDetail:
    rates = RateRepository(uow.session)
    on = today()
    capacities = await rates.series(Capacity, person.id)
    list_rates = await rates.series(ListRate, person.id)
    visible = may_read_cost_rate(principal, person.id)
    cost_rates = await rates.series(CostRate, person.id) if visible else []

    def current(series: list[Any]) -> Any:
        return next((row for row in series if row.effective_from <= on), None)  # the latest first

    capacity, list_rate, cost_rate = current(capacities), current(list_rates), current(cost_rates)
    return PersonDetail(
        **_fields(person), weekly_capacity=_capacity(capacity) if capacity else None,
        list_rate=_list(list_rate) if list_rate else None, cost_rate=_cost(cost_rate) if cost_rate else None,
        cost_rate_visible=visible, capacity_history=[_capacity(c) for c in capacities],
        list_rate_history=[_list(r) for r in list_rates], cost_rate_history=[_cost(r) for r in cost_rates])


def _money(rate: RateIn, field: str) -> Decimal:
    try:
        return check_amount(rate.hourly_rate, rate.currency, field=field)
    except ValueError as exc:
        raise Unprocessable(str(exc), type_slug="invalid-money") from None


async def update_person(uow: UnitOfWork, principal: Principal, person_id: str, body: PersonPatch) -> PersonDetail:
    """Department, cost center and new entries of the dated series, in one transaction: all of it or nothing."""
    people = PersonRepository(uow.session)
    person = await people.get(person_id, for_update=True)
    if person is None:
        raise NotFound(f"Person {person_id} does not exist.")
    changes = body.model_dump(exclude_unset=True)
    if "department" in changes:
        person.department = body.department or None
    if "cost_center_id" in changes:
        if body.cost_center_id is not None:
            await usable_cost_center(uow, body.cost_center_id)
        person.cost_center_id = body.cost_center_id
    rates = RateRepository(uow.session)
    if body.weekly_capacity is not None:
        await _put(rates, Capacity, person.id, body.weekly_capacity.effective_from,
                   hours_per_week=body.weekly_capacity.hours_per_week)
    if body.cost_rate is not None:
        await _put(rates, CostRate, person.id, body.cost_rate.effective_from,
                   hourly_cost=_money(body.cost_rate, "cost_rate.hourly_rate"), currency=body.cost_rate.currency)
    if body.list_rate is not None:
        await _put(rates, ListRate, person.id, body.list_rate.effective_from,
                   hourly_rate=_money(body.list_rate, "list_rate.hourly_rate"), currency=body.list_rate.currency)
    await uow.commit()
    return await _detail(uow, principal, person)


async def _put(rates: RateRepository, model: type[PersonRow], person_id: str,
               effective_from: date, **values: Any) -> None:
    """A new entry of the series from `effective_from` on, or the entry of that very date corrected."""
    existing = await rates.at(model, person_id, effective_from)
    if existing is not None:
        for field, value in values.items():
            setattr(existing, field, value)
        return
    rates.add(model(id=uuid.uuid4(), user_id=person_id, effective_from=effective_from, **values))


async def apply_user_state(uow: UnitOfWork, *, person_id: str, email: str, name: str, role: str, active: bool,
                           changed_at: datetime) -> None:
    """A gateway user's state (user.created, user.updated), in the consumer's transaction (it commits)."""
    await PersonRepository(uow.session).apply_user_state(person_id=person_id, email=email, name=name, role=role,
                                                         active=active, changed_at=changed_at)


async def deactivate(uow: UnitOfWork, person_id: str, at: datetime) -> None:
    await PersonRepository(uow.session).deactivate(person_id, at)
