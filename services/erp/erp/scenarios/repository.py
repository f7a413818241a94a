import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from erp.scenarios.models import OpeningBalance, RecurringItem, Scenario
from throughline_platform.paging import page_with_total


class ScenarioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: RecurringItem | OpeningBalance | Scenario) -> None:
        self.session.add(row)

    async def delete(self, row: RecurringItem | Scenario) -> None:
        await self.session.delete(row)

    async def recurring_item(self, item_id: uuid.UUID) -> RecurringItem | None:
        return await self.session.get(RecurringItem, item_id)

    async def recurring_items(self, limit: int, offset: int) -> tuple[list[RecurringItem], int]:
        return await page_with_total(self.session, select(RecurringItem), RecurringItem.start_date,
                                     RecurringItem.name, RecurringItem.id, limit=limit, offset=offset)

    async def active_recurring_items(self, as_of: date) -> list[RecurringItem]:
        query = select(RecurringItem).where((RecurringItem.end_date.is_(None)) | (RecurringItem.end_date >= as_of))
        return list((await self.session.execute(query)).scalars())

    async def scenario(self, scenario_id: uuid.UUID) -> Scenario | None:
        return await self.session.get(Scenario, scenario_id)

    async def scenario_by_name(self, name: str) -> Scenario | None:
        query = select(Scenario).where(func.lower(Scenario.name) == name.lower())
        return (await self.session.execute(query)).scalars().first()

    async def scenarios(self, limit: int, offset: int) -> tuple[list[Scenario], int]:
        return await page_with_total(self.session, select(Scenario), func.lower(Scenario.name), Scenario.id,
                                     limit=limit, offset=offset)

    async def entered_balance(self, as_of: date) -> OpeningBalance | None:
        query = (select(OpeningBalance).where(OpeningBalance.as_of <= as_of)
                 .order_by(OpeningBalance.as_of.desc(), OpeningBalance.created_at.desc()).limit(1))
        return (await self.session.execute(query)).scalars().first()

    async def statement_balances(self, as_of: date) -> list[dict[str, Any]]:
        """The closing balance of each bank account's latest statement up to `as_of`."""
        return await self._rows(STATEMENT_BALANCES, as_of=as_of)

    async def receivable_flows(self) -> list[dict[str, Any]]:
        """Open invoices and schedule items not yet invoiced, each on the day its client's history says it will be
        paid (one statement)."""
        return await self._rows(RECEIVABLES)

    async def payable_flows(self) -> list[dict[str, Any]]:
        """Vendor bills still owed and approved expenses not yet reimbursed (one statement)."""
        return await self._rows(PAYABLES)

    async def days_late_by_company(self, company_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[uuid.UUID, int, int]]:
        """CRM company id -> (client id, its average days late, its payment terms), for the clients of open deals."""
        if not company_ids:
            return {}
        rows = await self._rows(DAYS_LATE_BY_COMPANY, company_ids=company_ids)
        return {r["crm_company_id"]: (r["client_id"], int(r["days_late"]), int(r["payment_terms_days"]))
                for r in rows}

    async def open_bill(self, bill_id: uuid.UUID) -> bool:
        return bool((await self.session.execute(text(
            "SELECT 1 FROM bills WHERE id = :id AND status IN ('submitted', 'approved', 'partly_paid')"),
            {"id": bill_id})).first())

    async def client_exists(self, client_id: uuid.UUID) -> bool:
        return bool((await self.session.execute(text("SELECT 1 FROM clients WHERE id = :id"),
                                                {"id": client_id})).first())

    async def _rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in await self.session.execute(text(sql), params)]


STATEMENT_BALANCES = """
SELECT DISTINCT ON (account) account, currency, closing_balance, closing_date
FROM bank_statements
WHERE closing_balance IS NOT NULL AND closing_date IS NOT NULL AND closing_date <= :as_of
ORDER BY account, closing_date DESC, created_at DESC
"""

# A client's lateness: the average of (day paid - due date) over its paid invoices, rounded to whole days; early
# payers have a negative one. A client without paid invoices pays on the due date.
_LATENESS = """
lateness AS (
    SELECT client_id, ROUND(AVG(CAST(paid_at AT TIME ZONE 'UTC' AS date) - due_date)) AS days_late
    FROM invoices
    WHERE kind = 'invoice' AND status = 'paid' AND paid_at IS NOT NULL AND due_date IS NOT NULL
    GROUP BY client_id
)"""

RECEIVABLES = f"""
WITH {_LATENESS}
SELECT 'invoices' AS source, i.client_id, i.currency, i.balance_due AS amount,
       i.due_date + CAST(COALESCE(l.days_late, 0) AS integer) AS expected_on
FROM invoices i LEFT JOIN lateness l ON l.client_id = i.client_id
WHERE i.kind = 'invoice' AND i.status IN ('issued', 'partially_paid') AND i.balance_due > 0
  AND i.due_date IS NOT NULL
UNION ALL
SELECT 'schedule', p.client_id, bs.currency, si.amount,
       si.due_date + c.payment_terms_days + CAST(COALESCE(l.days_late, 0) AS integer)
FROM schedule_items si
JOIN billing_schedules bs ON bs.id = si.schedule_id
JOIN projects p ON p.id = bs.project_id
JOIN clients c ON c.id = p.client_id
LEFT JOIN lateness l ON l.client_id = p.client_id
WHERE si.status = 'pending' AND si.invoice_id IS NULL AND si.due_date IS NOT NULL
  AND p.status IN ('active', 'on_hold')
"""

PAYABLES = """
SELECT 'bills' AS source, b.id AS bill_id, b.currency, b.balance_due AS amount, b.due_date AS expected_on
FROM bills b
WHERE b.status IN ('submitted', 'approved', 'partly_paid') AND b.balance_due > 0
UNION ALL
SELECT 'expenses', NULL, e.currency, e.amount, CAST(e.decided_at AT TIME ZONE 'UTC' AS date)
FROM expenses e
WHERE e.status = 'approved' AND e.reimbursed_at IS NULL
"""

DAYS_LATE_BY_COMPANY = f"""
WITH {_LATENESS}
SELECT c.crm_company_id, c.id AS client_id, c.payment_terms_days, COALESCE(l.days_late, 0) AS days_late
FROM clients c LEFT JOIN lateness l ON l.client_id = c.id
WHERE c.crm_company_id = ANY(:company_ids)
"""

