"""The ranked hits of one type (SQL in throughline_platform.search; the documents in migration 0013)."""

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from erp.search.schemas import SearchType
from throughline_platform.search import SearchQuery, search_params, search_select, union_select

# Its own words, or its client's: as two index scans (an OR across the join would read every row).
_BY_CLIENT = ("t.id IN (SELECT id FROM {table} WHERE search_vector @@ to_tsquery('simple', :q)"
              " UNION ALL SELECT x.id FROM clients cc JOIN {table} x ON x.client_id = cc.id"
              " WHERE cc.search_vector @@ to_tsquery('simple', :q))")
_MONEY = "to_char({}, 'FM999999999999990.00') || ' ' || t.currency"

SELECTS: dict[SearchType, str] = {
    # A project and an invoice are also found by their client's name (the client's own index).
    SearchType.PROJECT: search_select(
        table="projects", title="t.name", subtitle="concat_ws(' · ', c.name, replace(t.status, '_', ' '))",
        join="JOIN clients c ON c.id = t.client_id", vector="t.search_vector || c.search_vector",
        match=_BY_CLIENT.format(table="projects")),
    SearchType.INVOICE: search_select(
        table="invoices",
        title="CASE WHEN t.kind = 'credit_note' THEN 'Credit note ' ELSE 'Invoice ' END"
              " || coalesce(t.number, '(draft)')",
        subtitle=f"concat_ws(' · ', c.name, replace(t.status, '_', ' '), {_MONEY.format('t.total')})",
        join="JOIN clients c ON c.id = t.client_id",
        vector="t.search_vector || c.search_vector",
        match=_BY_CLIENT.format(table="invoices")),
}


async def hits(session: AsyncSession, kinds: list[SearchType], query: SearchQuery,
               limit: int) -> list[tuple[SearchType, uuid.UUID, str, str, float]]:
    """The best `limit` hits of each kind, in one statement."""
    params: dict[str, Any] = search_params(query, limit)
    rows = await session.execute(text(union_select({kind.value: SELECTS[kind] for kind in kinds})), params)
    return [(SearchType(r.type), r.id, r.title or "", r.subtitle or "", float(r.score)) for r in rows]
