"""Billing schedules and billing runs: what the router and the scheduler ask of billing, each in one transaction."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from erp.billing.models import BillingRun, BillingSchedule, ScheduleItem, ScheduleItemStatus
from erp.billing.repository import BillingRepository
from erp.billing.runs import RunResult, run_billing
from erp.billing.schedule import PlannedSchedule
from erp.clock import today
from erp.db import utcnow
from erp.invoices.api import Invoice
from erp.settings import get_settings
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable


async def bill(uow: UnitOfWork, *, as_of: date, issue: bool, triggered_by: str,
               project_id: uuid.UUID | None) -> RunResult:
    """A billing run asked for by hand, committed. A run as of a day that has not come is refused: it would bill
    items before they are due."""
    if as_of > today():
        raise Unprocessable(f"as_of: {as_of} is in the future (today is {today()}): a billing run bills what is due "
                            "by a day that has come.",
                            errors=[{"field": "as_of", "message": "must not be after today", "type": "future_date"}])
    result = await run_billing(uow, as_of=as_of, issue=issue, triggered_by=triggered_by, project_id=project_id)
    try:
        await uow.commit()  # while `result` holds the invoices whose recorded events go to the outbox
    except IntegrityError:
        raise Conflict("Another billing run invoiced these items at the same time; run again.") from None
    return result


async def scheduled_run(uow: UnitOfWork) -> None:
    """The scheduler's run as of today, committed."""
    result = await run_billing(uow, as_of=today(), issue=get_settings().billing_run_issue,
                               triggered_by="scheduler")
    await uow.commit()  # while `result` holds the invoices whose recorded events go to the outbox
    del result


async def get_run(uow: UnitOfWork, run_id: uuid.UUID) -> BillingRun:
    run = await BillingRepository(uow.session).run(run_id)
    if run is None:
        raise NotFound(f"Billing run {run_id} does not exist.")
    return run


async def schedule_of(uow: UnitOfWork, project_id: uuid.UUID) -> BillingSchedule:
    schedule = await BillingRepository(uow.session).schedule_of(project_id)
    if schedule is None:
        raise NotFound(f"Project {project_id} has no billing schedule.")
    return schedule


async def reach(uow: UnitOfWork, item_id: uuid.UUID) -> ScheduleItem:
    """Mark a milestone reached (once: reaching it again keeps the first time); the next run bills it."""
    item = await BillingRepository(uow.session).item(item_id, for_update=True)
    if item is None:
        raise NotFound(f"Schedule item {item_id} does not exist.")
    if item.status != ScheduleItemStatus.PENDING:
        raise Conflict(f"Schedule item {item_id} is already {item.status}.")
    if item.reached_at is None:
        item.reached_at = utcnow()
    await uow.commit()
    return item


def schedule_total(plan: PlannedSchedule, budget: Decimal) -> Decimal:
    """What the schedule bills in all: its items, or the budget when nothing is billed up front."""
    return sum((i.amount for i in plan.items), Decimal(0)) if plan.items else budget


def add_schedule(uow: UnitOfWork, *, project_id: uuid.UUID, currency: str, budget: Decimal, plan: PlannedSchedule,
                 terms: dict[str, Any] | None) -> BillingSchedule:
    """A project's schedule as planned from its deal's terms, with its items (flushed with the caller's work)."""
    schedule = BillingSchedule(
        id=uuid.uuid4(), project_id=project_id, billing_type=plan.billing_type, currency=currency,
        total=schedule_total(plan, budget), hourly_rate=plan.hourly_rate, cap=plan.cap, terms=terms,
        items=[ScheduleItem(id=uuid.uuid4(), position=n, label=i.label, due_date=i.due_date, amount=i.amount,
                            status=ScheduleItemStatus.PENDING) for n, i in enumerate(plan.items, start=1)],
    )
    BillingRepository(uow.session).add(schedule)
    return schedule


async def release_schedule_item(uow: UnitOfWork, invoice: Invoice) -> None:
    """Billed work given back (registered with `erp.invoices.api.BILLED_WORK`): the schedule item a voided
    invoice or deleted draft billed is pending again, for the next run."""
    if invoice.schedule_item_id is None:
        return
    item = await BillingRepository(uow.session).item(invoice.schedule_item_id)
    if item is not None and item.invoice_id == invoice.id:
        item.status, item.invoice_id = ScheduleItemStatus.PENDING, None
