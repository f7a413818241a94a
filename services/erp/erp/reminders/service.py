"""Dunning: reminder steps (days after the due date), each sent once per invoice, caught up after downtime.

A run as of a date sends, for every open invoice with a balance due, every step whose day has come and
that was not sent yet (unique (invoice_id, step)); a paid, credited or void invoice gets no more.
The step `late_fee_step` (default: the last) adds the invoice's late fee, if it has a `late_fee_percent`.
Rows are written in the run's transaction with `delivery_status = pending`; delivery happens after COMMIT.
"""

import asyncio
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from email.message import EmailMessage

import structlog

from erp.clients.api import Client, ClientRepository
from erp.clock import today
from erp.db import utcnow
from erp.invoices.api import Invoice, LineKind, LineSpec, append_line
from erp.reminders.models import Channel, DeliveryStatus, Reminder
from erp.reminders.repository import ReminderRepository
from erp.settings import ErpSettings, get_settings
from throughline_events.erp import InvoiceOverdueV1
from throughline_events.money import ZERO, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Unprocessable

log = structlog.get_logger(__name__)


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
    created: list[Reminder] = []
    now = utcnow()
    for invoice in invoices:
        assert invoice.due_date is not None and invoice.number is not None
        days_overdue = (as_of - invoice.due_date).days
        client = clients[invoice.client_id]
        for step in due_steps(steps, days_overdue, sent.get(invoice.id, set())):
            fee = ZERO
            if step.number == fee_step and invoice.late_fee_percent:
                fee = round_money(invoice.balance_due * invoice.late_fee_percent / Decimal(100), invoice.currency)
                if fee > ZERO:
                    append_line(invoice, LineSpec(
                        f"Late fee ({invoice.late_fee_percent.normalize():f} % of the overdue balance)",
                        Decimal(1), fee, kind=LineKind.LATE_FEE))
            reminder = _reminder(invoice, client, step, days_overdue, as_of, fee, settings)
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
              settings: ErpSettings) -> Reminder:
    c = invoice.currency
    balance = round_money(invoice.balance_due, c)
    subject = f"Reminder {step.number}: invoice {invoice.number} is {days_overdue} days overdue"
    lines = [
        f"Dear {client.name},",
        "",
        f"our invoice {invoice.number} of {invoice.issue_date} was due on {invoice.due_date}. "
        f"{balance} {c} is still open.",
    ]
    if fee > ZERO:
        lines.append(f"A late fee of {fee} {c} has been added to the invoice.")
    lines += ["", "Please transfer the balance at your earliest convenience.", "", "Kind regards,", "Accounts"]
    channel = Channel.EMAIL if settings.smtp_host and client.email else Channel.LOG
    return Reminder(id=uuid.uuid4(), invoice_id=invoice.id, step=step.number, days_after_due=step.days,
                    days_overdue=days_overdue, as_of=as_of, recipient=client.email, channel=channel,
                    subject=subject, body="\n".join(lines), balance_due=balance, late_fee=fee,
                    delivery_status=DeliveryStatus.PENDING)


async def undelivered(uow: UnitOfWork) -> list[uuid.UUID]:
    """Reminders committed but never delivered (the process stopped between COMMIT and delivery)."""
    return await ReminderRepository(uow.session).undelivered()


async def deliver(uow: UnitOfWork, reminder_ids: list[uuid.UUID]) -> None:
    """Send committed reminders (SMTP when ERP_SMTP_HOST is set and the client has an email; else a log line)."""
    settings = get_settings()
    reminders = ReminderRepository(uow.session)
    for reminder_id in reminder_ids:
        reminder = await reminders.get(reminder_id)
        if reminder is None or reminder.delivery_status != DeliveryStatus.PENDING:
            continue
        if reminder.channel == Channel.EMAIL and settings.smtp_host and reminder.recipient:
            try:
                await asyncio.to_thread(_send_mail, settings, reminder.recipient, reminder.subject, reminder.body)
                reminder.delivery_status = DeliveryStatus.SENT
            except (OSError, smtplib.SMTPException) as exc:
                reminder.delivery_status, reminder.delivery_error = DeliveryStatus.FAILED, repr(exc)[:2000]
                log.warning("reminder_delivery_failed", reminder_id=str(reminder.id), error=repr(exc))
        else:
            log.info("reminder_logged", reminder_id=str(reminder.id), invoice_id=str(reminder.invoice_id),
                     step=reminder.step, recipient=reminder.recipient, subject=reminder.subject)
            reminder.delivery_status = DeliveryStatus.LOGGED
        reminder.sent_at = utcnow()
        await uow.commit()


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
        await deliver(second, ids)
        return await ReminderRepository(second.session).by_ids(ids)


def _send_mail(settings: ErpSettings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)
