import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from erp.payables.models import Bill, BillHistory, BillPayment, Vendor
from throughline_platform.paging import page_with_total


class PayablesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: Vendor | Bill | BillHistory | BillPayment) -> None:
        self.session.add(row)

    async def delete(self, row: Bill) -> None:
        await self.session.delete(row)

    # --- vendors ---

    async def vendor(self, vendor_id: uuid.UUID) -> Vendor | None:
        return await self.session.get(Vendor, vendor_id)

    async def vendor_by_name(self, name: str) -> Vendor | None:
        query = select(Vendor).where(func.lower(Vendor.name) == name.lower())
        return (await self.session.execute(query)).scalars().first()

    async def vendor_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(select(Vendor.id, Vendor.name).where(Vendor.id.in_(ids)))
        return {row.id: row.name for row in rows}

    async def vendors(self, q: str | None, active: bool | None, limit: int, offset: int) -> tuple[list[Vendor], int]:
        query = select(Vendor)
        if q:
            query = query.where(Vendor.name.ilike(f"%{q}%"))
        if active is not None:
            query = query.where(Vendor.active == active)
        return await page_with_total(self.session, query, func.lower(Vendor.name), Vendor.id, limit=limit,
                                     offset=offset)

    # --- bills ---

    async def bill(self, bill_id: uuid.UUID, *, for_update: bool = False) -> Bill | None:
        query = select(Bill).where(Bill.id == bill_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalars().first()

    async def bill_by_reference(self, vendor_id: uuid.UUID, reference: str) -> Bill | None:
        query = select(Bill).where(Bill.vendor_id == vendor_id, Bill.vendor_reference == reference)
        return (await self.session.execute(query)).scalars().first()

    async def bills(self, filters: dict[str, Any], limit: int, offset: int) -> tuple[list[Bill], int]:
        query = select(Bill)
        for field in ("status", "vendor_id", "currency", "project_id"):
            if filters.get(field) is not None:
                query = query.where(getattr(Bill, field) == filters[field])
        if filters.get("due_before") is not None:
            query = query.where(Bill.due_date <= filters["due_before"])
        return await page_with_total(self.session, query, Bill.due_date, Bill.created_at, Bill.id, limit=limit,
                                     offset=offset)

    async def history(self, bill_id: uuid.UUID) -> list[BillHistory]:
        query = select(BillHistory).where(BillHistory.bill_id == bill_id).order_by(BillHistory.created_at)
        return list((await self.session.execute(query)).scalars())

    async def payments(self, bill_id: uuid.UUID) -> list[BillPayment]:
        query = select(BillPayment).where(BillPayment.bill_id == bill_id).order_by(BillPayment.paid_on,
                                                                                 BillPayment.created_at)
        return list((await self.session.execute(query)).scalars())

    async def aging(self, as_of: date, vendor_id: uuid.UUID | None, currency: str | None) -> list[dict[str, Any]]:
        rows = await self.session.execute(text(AP_AGING), {"as_of": as_of, "vendor_id": vendor_id,
                                                           "currency": currency})
        return [dict(r._mapping) for r in rows]


# What each approved bill still owed on `as_of`: its total less the payments made up to then (a bill paid since
# is still open on an earlier day). Submitted bills are not owed until approved (the ledger posts them then).
AP_AGING = """
WITH paid AS (
    SELECT bp.bill_id, SUM(bp.amount) AS amount FROM bill_payments bp
    WHERE bp.paid_on <= CAST(:as_of AS date) GROUP BY bp.bill_id
),
open AS (
    SELECT b.id, b.vendor_id, b.currency, b.due_date, b.total - COALESCE(paid.amount, 0) AS open_amount
    FROM bills b LEFT JOIN paid ON paid.bill_id = b.id
    WHERE b.status IN ('approved', 'partly_paid', 'paid') AND b.bill_date <= CAST(:as_of AS date)
      AND (CAST(:vendor_id AS uuid) IS NULL OR b.vendor_id = CAST(:vendor_id AS uuid))
      AND (CAST(:currency AS varchar) IS NULL OR b.currency = CAST(:currency AS varchar))
)
SELECT open.vendor_id, v.name AS vendor_name, open.currency,
       COALESCE(SUM(open.open_amount) FILTER (WHERE open.due_date > CAST(:as_of AS date)), 0) AS not_due,
       COALESCE(SUM(open.open_amount) FILTER (WHERE CAST(:as_of AS date) - open.due_date BETWEEN 0 AND 30), 0)
           AS days_0_30,
       COALESCE(SUM(open.open_amount) FILTER (WHERE CAST(:as_of AS date) - open.due_date BETWEEN 31 AND 60), 0)
           AS days_31_60,
       COALESCE(SUM(open.open_amount) FILTER (WHERE CAST(:as_of AS date) - open.due_date BETWEEN 61 AND 90), 0)
           AS days_61_90,
       COALESCE(SUM(open.open_amount) FILTER (WHERE CAST(:as_of AS date) - open.due_date > 90), 0) AS days_90_plus,
       SUM(open.open_amount) AS total, COUNT(*) AS bills
FROM open JOIN vendors v ON v.id = open.vendor_id
WHERE open.open_amount > 0
GROUP BY open.vendor_id, v.name, open.currency
ORDER BY lower(v.name), open.vendor_id, open.currency
"""
