"""Dunning: reminder steps (days after the due date), each sent once per invoice, caught up after downtime.

A run as of a date sends, for every open invoice with a balance due, every step whose day has come and
that was not sent yet (unique (invoice_id, step)); a paid, credited or void invoice gets no more.
The step `late_fee_step` (default: the last) adds the invoice's late fee, if it has a `late_fee_percent`.
Rows are written in the run's transaction with `delivery_status = pending`; delivery happens after COMMIT: each
reminder's mail (its text from the step's template, the invoice's PDF attached) goes into the ERP's mail outbox
(`queued`), and the sender's outcome makes it `sent`, `failed` or `bounced` (`record_delivery`). A client whose
reminders are paused (a dispute, a promise to pay until a date) is skipped: its steps come due again after.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import structlog

from erp.clients.api import Client, ClientRepository, reminders_paused
from erp.clock import today
from erp.db import utcnow
from erp.documents.api import pdf_of
from erp.invoices.api import Invoice, LineKind, LineSpec, append_line, get_invoice
from erp.ledger import api as ledger
from erp.mailing.api import (
    MailKind,
    MailState,
    ReminderOutcome,
    Templates,
    default_recipients,
    reminder_context,
    stage_invoice_mail,
    templates,
)
from erp.reminders.models import Channel, DeliveryStatus, Reminder
from erp.reminders.repository import ReminderRepository
from erp.settings import ErpSettings, get_settings
from throughline_events.erp import InvoiceOverdueV1
from throughline_events.money import ZERO, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Unprocessable

log = structlog.get_logger(__name__)

UnitsOfWork = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class Step:
    number: int
    days: int


def steps_of(settings: ErpSettings) -> list[Step]:
    return [Step(n, d) for n, d in enumerate(settings.reminder_step_days(), start=1)]


def due_steps(steps: list[Step], days_overdue: int, sent: set[int]) -> list[Step]:
    """Every step whose day has come and that was not sent: after downtime, all missed ones at once."""
    return [s for s in steps if s.days <= days_overdue and s.number not in sent]


async def run_reminders(uow: UnitOfWork, *, as_of: date, client_id: uuid.UUID | None = None,
                        invoice_id: uuid.UUID | None = None) -> list[Reminder]:
    settings = get_settings()
    steps = steps_of(settings)
    if not steps:
        return []
    # Committed here (with the overdue events); delivered after, by `deliver`.
    fee_step = settings.late_fee_step or steps[-1].number
    reminders = ReminderRepository(uow.session)
    invoices = await reminders.overdue_invoices(as_of - timedelta(days=steps[0].days), client_id, invoice_id)
    if not invoices:
        await uow.commit()  # ends the transaction: its connection goes back to the pool before `deliver` takes one
        return []
    sent = await reminders.sent_steps(i.id for i in invoices)
    clients = await ClientRepository(uow.session).by_ids({i.client_id for i in invoices})
    mail_templates = await templates(uow)
    recipients: dict[uuid.UUID, list[str]] = {}
    created: list[Reminder] = []
    now = utcnow()
    for invoice in invoices:
        assert invoice.due_date is not None and invoice.number is not None
        days_overdue = (as_of - invoice.due_date).days
        client = clients[invoice.client_id]
        if reminders_paused(client, as_of):
            continue  # a dispute, or a promise to pay not yet run out: its steps wait
        if client.id not in recipients:
            recipients[client.id] = await default_recipients(uow, client)
        for step in due_steps(steps, days_overdue, sent.get(invoice.id, set())):
            fee = ZERO
            if step.number == fee_step and invoice.late_fee_percent:
                fee = round_money(invoice.balance_due * invoice.late_fee_percent / Decimal(100), invoice.currency)
                if fee > ZERO:
                    line = append_line(invoice, LineSpec(
                        f"Late fee ({invoice.late_fee_percent.normalize():f} % of the overdue balance)",
                        Decimal(1), fee, kind=LineKind.LATE_FEE))
                    await ledger.late_fee_added(uow, invoice, line.id, line, as_of)
            reminder = _reminder(invoice, client, step, days_overdue, as_of, fee, mail_templates,
                                 recipients[client.id])
            reminders.add(reminder)
            created.append(reminder)
            invoice.record(InvoiceOverdueV1(
                invoice_id=invoice.id, number=invoice.number, company_id=client.crm_company_id, client_id=client.id,
                project_id=invoice.project_id, deal_id=invoice.deal_id, currency=invoice.currency,
                balance_due=round_money(invoice.balance_due, invoice.currency), due_date=invoice.due_date,
                days_overdue=days_overdue, reminder_step=step.number, noticed_at=now,
            ))
    log.info("reminder_run", as_of=str(as_of), invoices=len(invoices), reminders=len(created))
    await uow.commit()  # while `invoices` still holds the aggregates whose events go to the outbox
    return created


def _reminder(invoice: Invoice, client: Client, step: Step, days_overdue: int, as_of: date, fee: Decimal,
              mail_templates: Templates, to: list[str]) -> Reminder:
    rendered = mail_templates.render(f"reminder-{step.number}", reminder_context(
        invoice, client, step=step.number, days_overdue=days_overdue, late_fee=fee))
    channel = Channel.EMAIL if to else Channel.LOG
    return Reminder(id=uuid.uuid4(), invoice_id=invoice.id, step=step.number, days_after_due=step.days,
                    days_overdue=days_overdue, as_of=as_of, recipient=_recipients(to) or client.email,
                    channel=channel, subject=rendered.subject[:300], body=rendered.text,
                    balance_due=round_money(invoice.balance_due, invoice.currency), late_fee=fee,
                    delivery_status=DeliveryStatus.PENDING)


def _recipients(to: list[str]) -> str:
    """The addresses as the reminder keeps them (one column of 320 characters): whole addresses only."""
    kept: list[str] = []
    for address in to:
        if len(", ".join([*kept, address])) > 320:
            break
        kept.append(address)
    return ", ".join(kept)


async def undelivered(uow: UnitOfWork) -> list[uuid.UUID]:
    """Reminders committed but never delivered (the process stopped between COMMIT and delivery)."""
    return await ReminderRepository(uow.session).undelivered()


async def deliver(uow: UnitOfWork, documents: UnitsOfWork, reminder_ids: list[uuid.UUID]) -> None:
    """Stage the mails of committed reminders in the ERP's mail outbox, each with its invoice's PDF (rendered, and
    kept, in a unit of work of `documents`), one transaction per reminder; a reminder without a recipient is a log
    line. The sender delivers the mails; its outcome comes back through `record_delivery`."""
    reminders = ReminderRepository(uow.session)
    for reminder_id in reminder_ids:
        reminder = await reminders.get(reminder_id)
        if reminder is None or reminder.delivery_status != DeliveryStatus.PENDING:
            continue
        if reminder.channel == Channel.EMAIL and reminder.recipient:
            kept = await pdf_of(documents, reminder.invoice_id)
            invoice = await get_invoice(uow, reminder.invoice_id)
            to = [address.strip() for address in reminder.recipient.split(",") if address.strip()]
            await stage_invoice_mail(uow, invoice=invoice, pdf=kept.pdf, company_name=kept.seller_name or "Accounts",
                                     to=to,
                                     subject=reminder.subject, text=reminder.body, kind=MailKind.REMINDER,
                                     reminder_id=reminder.id, sent_by=None)
            reminder.delivery_status = DeliveryStatus.QUEUED
        else:
            log.info("reminder_logged", reminder_id=str(reminder.id), invoice_id=str(reminder.invoice_id),
                     step=reminder.step, recipient=reminder.recipient, subject=reminder.subject)
            reminder.delivery_status = DeliveryStatus.LOGGED
            reminder.sent_at = utcnow()
        await uow.commit()


_DELIVERY = {MailState.SENT: DeliveryStatus.SENT, MailState.BOUNCED: DeliveryStatus.BOUNCED,
             MailState.FAILED: DeliveryStatus.FAILED}


async def record_delivery(uow: UnitOfWork, outcomes: list[ReminderOutcome]) -> None:
    """What the sender made of reminder mails, on the reminders (in the sender's outcome transaction)."""
    if not outcomes:
        return
    rows = await ReminderRepository(uow.session).by_ids([o.reminder_id for o in outcomes])
    by_id = {row.id: row for row in rows}
    for outcome in outcomes:
        reminder = by_id.get(outcome.reminder_id)
        if reminder is None:
            continue
        reminder.delivery_status = _DELIVERY.get(outcome.status, DeliveryStatus.FAILED)
        reminder.delivery_error = outcome.error
        reminder.sent_at = utcnow()


async def run_and_deliver(uow: UnitOfWork, delivery: Callable[[], UnitOfWork], *, as_of: date,
                          client_id: uuid.UUID | None, invoice_id: uuid.UUID | None) -> list[Reminder]:
    """A run asked for by hand: its reminders committed in `uow`, then delivered in a unit of work of their own
    (`delivery`) and read back as delivered. A run as of a day that has not come is refused: it would remind of
    invoices that are not overdue."""
    if as_of > today():
        raise Unprocessable(f"as_of: {as_of} is in the future (today is {today()}): reminders are sent for what is "
                            "overdue by a day that has come.",
                            errors=[{"field": "as_of", "message": "must not be after today", "type": "future_date"}])
    created = await run_reminders(uow, as_of=as_of, client_id=client_id, invoice_id=invoice_id)
    ids = [r.id for r in created]
    async with delivery() as second:
        await deliver(second, delivery, ids)
        return await ReminderRepository(second.session).by_ids(ids)
