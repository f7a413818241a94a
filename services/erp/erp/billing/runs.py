"""Billing runs: invoice every schedule item due by a date, and approved billable time, exactly once.

Exactly once, however often and however concurrently it runs: each schedule item (and time entry) is
claimed with `FOR UPDATE SKIP LOCKED` and marked invoiced in the same transaction that creates its invoice;
the partial unique index `uq_invoices_schedule_item` is the second guard.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import structlog
from sqlalchemy import ColumnElement, Date, cast, func, or_, select

from erp.billing.models import BillingRun, BillingSchedule, ScheduleItem
from erp.clients.models import Client
from erp.invoices.models import Invoice, InvoiceLine
from erp.invoices.rules import ZERO
from erp.invoices.service import LineSpec, append_line, issue_invoice, new_invoice, today
from erp.projects.models import Project
from erp.settings import get_settings
from erp.time_entries.models import TimeEntry
from throughline_events.money import round_money
from throughline_messaging.uow import UnitOfWork

log = structlog.get_logger(__name__)


@dataclass
class RunResult:
    run: BillingRun
    invoices: list[Invoice] = field(default_factory=list)


async def run_billing(uow: UnitOfWork, *, as_of: date, issue: bool, triggered_by: str,
                      project_id: uuid.UUID | None = None) -> RunResult:
    run = BillingRun(id=uuid.uuid4(), as_of=as_of, issue=issue, project_id=project_id, triggered_by=triggered_by,
                     invoices_created=0, items_invoiced=0, time_entries_invoiced=0)
    uow.session.add(run)
    await uow.session.flush()
    result = RunResult(run)
    tax_rate = get_settings().default_tax_rate
    issue_on = today()

    due = (
        select(ScheduleItem, BillingSchedule, Project, Client)
        .join(BillingSchedule, ScheduleItem.schedule_id == BillingSchedule.id)
        .join(Project, BillingSchedule.project_id == Project.id)
        .join(Client, Project.client_id == Client.id)
        .where(ScheduleItem.status == "pending", Project.status != "cancelled",
               or_(ScheduleItem.due_date <= as_of,
                   cast(func.timezone("UTC", ScheduleItem.reached_at), Date) <= as_of))
        .order_by(ScheduleItem.due_date, ScheduleItem.position, ScheduleItem.id)
        .with_for_update(of=ScheduleItem, skip_locked=True)
    )
    if project_id is not None:
        due = due.where(Project.id == project_id)
    for item, schedule, project, client in (await uow.session.execute(due)).all():
        invoice = new_invoice(client=client, project=project, currency=schedule.currency, payment_terms_days=None,
                              late_fee_percent=None, notes=None, created_by=triggered_by)
        invoice.schedule_item_id, invoice.billing_run_id = item.id, run.id
        append_line(invoice, LineSpec(f"{project.name}: {item.label}", Decimal(1),
                                      round_money(item.amount, schedule.currency), tax_rate, kind="schedule",
                                      schedule_item_id=item.id))
        uow.session.add(invoice)
        item.status, item.invoice_id = "invoiced", invoice.id
        result.invoices.append(invoice)
        run.items_invoiced += 1

    await _bill_time(uow, run, result, as_of, tax_rate, project_id)

    await uow.session.flush()
    if issue:
        for invoice in result.invoices:
            if invoice.total > ZERO:  # a zero invoice (a 0.00 item) stays a draft rather than failing the run
                await issue_invoice(uow, invoice, issue_on)
    run.invoices_created = len(result.invoices)
    log.info("billing_run", as_of=str(as_of), invoices=run.invoices_created, items=run.items_invoiced,
             time_entries=run.time_entries_invoiced, issue=issue)
    return result


async def _bill_time(uow: UnitOfWork, run: BillingRun, result: RunResult, as_of: date, tax_rate: Decimal,
                     project_id: uuid.UUID | None) -> None:
    """Time and materials: approved billable entries up to `as_of`, at the hourly rate, never above the cap."""
    schedules = (
        select(BillingSchedule, Project, Client)
        .join(Project, BillingSchedule.project_id == Project.id)
        .join(Client, Project.client_id == Client.id)
        .where(BillingSchedule.billing_type == "time_and_materials", Project.status != "cancelled",
               BillingSchedule.hourly_rate.is_not(None))
        .where(select(TimeEntry.id).where(*_unbilled(as_of), TimeEntry.project_id == Project.id).exists())
        .order_by(Project.created_at, Project.id)
        # One biller per project at a time: the cap arithmetic below must see every earlier bill.
        .with_for_update(of=BillingSchedule, skip_locked=True)
    )
    if project_id is not None:
        schedules = schedules.where(Project.id == project_id)
    for schedule, project, client in (await uow.session.execute(schedules)).all():
        entries = list((await uow.session.execute(
            select(TimeEntry).where(*_unbilled(as_of), TimeEntry.project_id == project.id)
            .order_by(TimeEntry.work_date, TimeEntry.created_at, TimeEntry.id)
            .with_for_update(skip_locked=True))).scalars())
        if not entries:
            continue
        currency, rate = schedule.currency, round_money(Decimal(schedule.hourly_rate or 0), schedule.currency)
        remaining: Decimal | None = None
        if schedule.cap is not None:
            billed = (await uow.session.execute(
                select(func.coalesce(func.sum(InvoiceLine.net_amount), 0))
                .join(Invoice, InvoiceLine.invoice_id == Invoice.id)
                .where(Invoice.project_id == project.id, Invoice.status != "void", Invoice.kind == "invoice",
                       InvoiceLine.kind.in_(("time", "cap_adjustment"))))).scalar_one()
            remaining = round_money(Decimal(schedule.cap), currency) - Decimal(billed)
            if remaining <= ZERO:
                for entry in entries:
                    entry.beyond_cap = True
                continue
        invoice = new_invoice(client=client, project=project, currency=currency, payment_terms_days=None,
                              late_fee_percent=None, notes=None, created_by=run.triggered_by)
        invoice.billing_run_id = run.id
        billed_lines = []
        for entry in entries:
            note = f" - {entry.description}" if entry.description else ""
            billed_lines.append((entry, append_line(invoice, LineSpec(
                f"{entry.work_date.isoformat()} {entry.person_id}{note}", Decimal(entry.hours), rate, tax_rate,
                kind="time"))))
        if remaining is not None and invoice.subtotal > remaining:
            over = invoice.subtotal - remaining
            append_line(invoice, LineSpec(f"Cap of {round_money(Decimal(schedule.cap or 0), currency)} {currency} "
                                          "reached: hours above it are not billed", Decimal(1), -over, tax_rate,
                                          kind="cap_adjustment"))
        uow.session.add(invoice)
        await uow.session.flush()  # the entries' foreign keys need the invoice and its lines
        for entry, line in billed_lines:
            entry.invoice_id, entry.invoice_line_id = invoice.id, line.id
        result.invoices.append(invoice)
        run.time_entries_invoiced += len(entries)


def _unbilled(as_of: date) -> tuple[ColumnElement[bool], ...]:
    return (TimeEntry.invoice_id.is_(None), TimeEntry.billable.is_(True), TimeEntry.status == "approved",
            TimeEntry.beyond_cap.is_(False), TimeEntry.work_date <= as_of)
