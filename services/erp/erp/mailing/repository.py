import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from erp.mailing.models import InvoiceMail, MailTemplateRow

# One statement for a batch of outcomes: each mail's status, error and when, by its id; returns what reminders need
# and, for a mail that did not arrive, what its `invoice.delivery_failed` event says of the invoice.
_RECORD = text("""
    WITH recorded AS (
        UPDATE invoice_mails AS m SET status = o.status, error = o.error, finished_at = now(), updated_at = now()
        FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS varchar[]), CAST(:errors AS text[])) AS o(id, status, error)
        WHERE m.id = o.id
        RETURNING m.id, m.invoice_id, m.kind, m.reminder_id, m.status, m.error, m.message_id, m.to_addresses,
                  m.finished_at
    )
    SELECT r.*, i.number, i.client_id, c.crm_company_id AS company_id, i.project_id, i.deal_id, i.currency
    FROM recorded AS r JOIN invoices AS i ON i.id = r.invoice_id JOIN clients AS c ON c.id = i.client_id
""")


_INVOICE_MAILS = cast(Table, InvoiceMail.__table__)


class MailingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_mails(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            # The table's INSERT, not the entity's: the ORM's bulk path (4 % of erp-api's CPU per invoice sent) adds
            # nothing here, as the rows are plain dicts with every column, and neither runs mapper events.
            await self.session.execute(insert(_INVOICE_MAILS), list(rows))

    async def of_invoice(self, invoice_id: uuid.UUID) -> list[InvoiceMail]:
        rows = await self.session.execute(select(InvoiceMail).where(InvoiceMail.invoice_id == invoice_id)
                                          .order_by(InvoiceMail.created_at.desc(), InvoiceMail.id))
        return list(rows.scalars())

    async def record(self, ids: list[uuid.UUID], statuses: list[str],
                     errors: list[str | None]) -> list[dict[str, Any]]:
        result = await self.session.execute(_RECORD, {"ids": ids, "statuses": statuses, "errors": errors})
        return [dict(row) for row in result.mappings().all()]

    async def templates(self) -> dict[str, MailTemplateRow]:
        rows = await self.session.execute(select(MailTemplateRow))
        return {row.key: row for row in rows.scalars()}

    async def template(self, key: str) -> MailTemplateRow | None:
        return (await self.session.execute(select(MailTemplateRow).where(MailTemplateRow.key == key)
                                           .with_for_update())).scalar_one_or_none()

    def add_template(self, row: MailTemplateRow) -> None:
        self.session.add(row)

    async def delete_template(self, row: MailTemplateRow) -> None:
        await self.session.delete(row)


def now_row(**values: Any) -> dict[str, Any]:
    """An invoice_mails row with its id and timestamps."""
    stamp: datetime = values.pop("now")
    return {"id": values.pop("id", None) or uuid.uuid4(), "created_at": stamp, "updated_at": stamp, **values}
