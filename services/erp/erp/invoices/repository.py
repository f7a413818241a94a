import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from erp.invoices.models import OPEN_STATUSES, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Payment
from throughline_platform.paging import page_with_total


class InvoiceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, obj: Invoice | Payment) -> None:
        self.session.add(obj)

    async def delete(self, invoice: Invoice) -> None:
        await self.session.delete(invoice)

    async def get(self, invoice_id: uuid.UUID, *, for_update: bool = False, lines: bool = True) -> Invoice | None:
        """`lines=False`: without loading the lines (a statement fewer), for work that reads only the invoice's own
        columns; touching `invoice.lines` then raises rather than loading them."""
        query = select(Invoice).where(Invoice.id == invoice_id)
        if not lines:
            query = query.options(raiseload(Invoice.lines))
        if for_update:
            # populate_existing: a row read earlier in this session is refreshed with the locked version.
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalars().first()

    async def next_number(self, series: str, year: int) -> int:
        """The next number of a (series, year): the counter row is locked FOR UPDATE until this transaction
        ends, so concurrent issuers queue here and a rolled-back issue gives its number back."""
        await self.session.execute(text(
            "INSERT INTO invoice_counters (series, year, last_number) VALUES (:series, :year, 0) "
            "ON CONFLICT (series, year) DO NOTHING"), {"series": series, "year": year})
        current = (await self.session.execute(text(
            "SELECT last_number FROM invoice_counters WHERE series = :series AND year = :year FOR UPDATE"),
            {"series": series, "year": year})).scalar_one()
        number = int(current) + 1
        await self.session.execute(text(
            "UPDATE invoice_counters SET last_number = :number, updated_at = now() "
            "WHERE series = :series AND year = :year"), {"number": number, "series": series, "year": year})
        return number

    async def search(self, *, status: str | None, kind: str | None, client_id: uuid.UUID | None,
                     project_id: uuid.UUID | None, deal_id: uuid.UUID | None, credit_of_id: uuid.UUID | None,
                     number: str | None, overdue_as_of: date | None, issued_from: date | None,
                     issued_to: date | None, limit: int, offset: int, total_min: Decimal | None = None,
                     total_max: Decimal | None = None) -> tuple[list[Invoice], int]:
        query = select(Invoice)
        if total_min is not None:
            query = query.where(Invoice.total >= total_min)
        if total_max is not None:
            query = query.where(Invoice.total <= total_max)
        if status:
            query = query.where(Invoice.status == status)
        if kind:
            query = query.where(Invoice.kind == kind)
        if client_id:
            query = query.where(Invoice.client_id == client_id)
        if project_id:
            query = query.where(Invoice.project_id == project_id)
        if deal_id:
            query = query.where(Invoice.deal_id == deal_id)
        if credit_of_id:
            query = query.where(Invoice.credit_of_id == credit_of_id)
        if number:
            query = query.where(Invoice.number == number)
        if overdue_as_of:
            query = query.where(Invoice.status.in_(OPEN_STATUSES), Invoice.due_date < overdue_as_of,
                                Invoice.balance_due > 0)
        if issued_from:
            query = query.where(Invoice.issue_date >= issued_from)
        if issued_to:
            query = query.where(Invoice.issue_date <= issued_to)
        return await page_with_total(self.session, query, Invoice.created_at.desc(), Invoice.id,
                                     limit=limit, offset=offset)

    async def payments_of(self, invoice_id: uuid.UUID, limit: int, offset: int) -> tuple[list[Payment], int]:
        query = select(Payment).where(Payment.invoice_id == invoice_id)
        return await page_with_total(self.session, query, Payment.paid_on, Payment.created_at, Payment.id,
                                     limit=limit, offset=offset)

    async def net_billed(self, project_id: uuid.UUID, line_kinds: Iterable[str]) -> Decimal:
        """The net amount of the project's lines of these kinds on its invoices that are not void."""
        billed = (await self.session.execute(
            select(func.coalesce(func.sum(InvoiceLine.net_amount), 0))
            .join(Invoice, InvoiceLine.invoice_id == Invoice.id)
            .where(Invoice.project_id == project_id, Invoice.status != InvoiceStatus.VOID,
                   Invoice.kind == InvoiceKind.INVOICE, InvoiceLine.kind.in_(tuple(line_kinds))))).scalar_one()
        return Decimal(billed)
