"""The exports' reads: one statement per export, joined to the names (client, project, category, invoice number)
so that no export holds an id where a person reading the sheet wants a name. Read like the reports: across the
packages' tables, read-only."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

_RANGE = {
    "invoices": "i.issue_date", "payments": "p.paid_on", "time-entries": "t.work_date", "expenses": "e.expense_date",
}
_QUERIES = {
    "invoices": """
        SELECT i.number, i.kind, i.status, c.name AS client, pr.name AS project, i.issue_date, i.due_date,
               i.currency, i.subtotal, i.tax_total, i.total, i.amount_paid, i.amount_credited, i.balance_due,
               i.payment_reference, i.id
          FROM invoices i JOIN clients c ON c.id = i.client_id LEFT JOIN projects pr ON pr.id = i.project_id
         WHERE {range}
         ORDER BY i.issue_date NULLS LAST, i.number NULLS LAST, i.created_at, i.id""",
    "payments": """
        SELECT p.paid_on, i.number AS invoice_number, c.name AS client, pr.name AS project, p.amount, p.currency,
               p.method, p.reference, p.recorded_by, p.id
          FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN clients c ON c.id = i.client_id
          LEFT JOIN projects pr ON pr.id = i.project_id
         WHERE {range}
         ORDER BY p.paid_on, p.created_at, p.id""",
    "time-entries": """
        SELECT t.work_date, t.person_id, c.name AS client, pr.name AS project, t.hours, t.billable, t.status,
               t.description, i.number AS invoice_number, t.id
          FROM time_entries t JOIN projects pr ON pr.id = t.project_id JOIN clients c ON c.id = pr.client_id
          LEFT JOIN invoices i ON i.id = t.invoice_id
         WHERE {range}
         ORDER BY t.work_date, t.created_at, t.id""",
    "expenses": """
        SELECT e.expense_date, e.submitted_by, e.submitter_email, e.merchant, e.description, cat.name AS category,
               e.amount, e.currency, trim_scale(e.tax_percent) AS vat_percent, e.tax_amount AS vat,
               e.amount - e.tax_amount AS net_amount, c.name AS client, pr.name AS project, e.billable, e.status,
               e.billing_status,
               i.number AS invoice_number, e.id
          FROM expenses e LEFT JOIN expense_categories cat ON cat.id = e.category_id
          LEFT JOIN projects pr ON pr.id = e.project_id LEFT JOIN clients c ON c.id = pr.client_id
          LEFT JOIN invoices i ON i.id = e.invoice_id
         WHERE {range}
         ORDER BY e.expense_date, e.created_at, e.id""",
}


async def rows(session: AsyncSession, kind: str, date_from: date | None,
               date_to: date | None) -> tuple[list[str], Sequence[Row[Any]]]:
    """The export's column names and rows, `date_from`..`date_to` inclusive on its date (an invoice's issue
    date: a draft has none, so a range leaves drafts out)."""
    column = _RANGE[kind]
    conditions = ["TRUE"]
    if date_from is not None:
        conditions.append(f"{column} >= :date_from")
    if date_to is not None:
        conditions.append(f"{column} <= :date_to")
    result = await session.execute(text(_QUERIES[kind].format(range=" AND ".join(conditions))),
                                   {k: v for k, v in (("date_from", date_from), ("date_to", date_to)) if v})
    return list(result.keys()), result.all()
