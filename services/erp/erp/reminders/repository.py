import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.invoices.api import OPEN_STATUSES, Invoice, InvoiceKind
from erp.reminders.models import DeliveryStatus, Reminder
from throughline_platform.paging import page_with_total


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, reminder: Reminder) -> None:
        self.session.add(reminder)

    async def get(self, reminder_id: uuid.UUID) -> Reminder | None:
        return await self.session.get(Reminder, reminder_id)

    async def overdue_invoices(self, overdue_since: date, client_id: uuid.UUID | None,
                               invoice_id: uuid.UUID | None) -> list[Invoice]:
        """Open invoices with a balance due on or before `overdue_since`, locked; an invoice a concurrent run
        holds is skipped, so two runs split the invoices between them and each is dunned by one."""
        query = (
            select(Invoice).where(Invoice.kind == InvoiceKind.INVOICE, Invoice.status.in_(OPEN_STATUSES),
                                  Invoice.balance_due > 0, Invoice.due_date <= overdue_since)
            .order_by(Invoice.due_date, Invoice.id)
            .with_for_update(skip_locked=True).execution_options(populate_existing=True)
        )
        if client_id is not None:
            query = query.where(Invoice.client_id == client_id)
        if invoice_id is not None:
            query = query.where(Invoice.id == invoice_id)
        return list((await self.session.execute(query)).scalars())

    async def sent_steps(self, invoice_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[int]]:
        """The steps already sent, per invoice."""
        rows = await self.session.execute(select(Reminder.invoice_id, Reminder.step)
                                          .where(Reminder.invoice_id.in_(list(invoice_ids))))
        sent: dict[uuid.UUID, set[int]] = {}
        for invoice_id, step in rows.all():
            sent.setdefault(invoice_id, set()).add(step)
        return sent

    async def undelivered(self) -> list[uuid.UUID]:
        rows = await self.session.execute(select(Reminder.id).where(Reminder.delivery_status == DeliveryStatus.PENDING)
                                          .order_by(Reminder.created_at).limit(1000))
        return list(rows.scalars())

    async def by_ids(self, reminder_ids: list[uuid.UUID]) -> list[Reminder]:
        rows = await self.session.execute(select(Reminder).where(Reminder.id.in_(reminder_ids))
                                          .order_by(Reminder.invoice_id, Reminder.step))
        return list(rows.scalars())

    async def search(self, invoice_id: uuid.UUID | None, limit: int, offset: int) -> tuple[list[Reminder], int]:
        query = select(Reminder)
        if invoice_id:
            query = query.where(Reminder.invoice_id == invoice_id)
        return await page_with_total(self.session, query, Reminder.created_at.desc(), Reminder.step.desc(),
                                     Reminder.id, limit=limit, offset=offset)
