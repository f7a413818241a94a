"""The ranked hits of one type (SQL in throughline_platform.search; the documents in migration 0009)."""

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.search.schemas import SearchType
from throughline_platform.search import SearchQuery, search_params, search_select, union_select

_PERSON = "trim(coalesce(t.first_name, '') || ' ' || coalesce(t.last_name, ''))"

SELECTS: dict[SearchType, str] = {
    SearchType.COMPANY: search_select(table="companies", title="t.name", subtitle="coalesce(t.domain, '')",
                                      where="t.deleted_at IS NULL"),
    SearchType.CONTACT: search_select(
        table="contacts", title=_PERSON,
        subtitle="concat_ws(' · ', nullif(t.email, ''), nullif(t.title, ''), c.name)",
        join="LEFT JOIN companies c ON c.id = t.company_id", where="t.deleted_at IS NULL"),
    SearchType.DEAL: search_select(
        table="deals", title="t.title",
        subtitle="concat_ws(' · ', c.name, t.status, to_char(t.amount, 'FM999999999999990.00') || ' ' || t.currency)",
        join="JOIN companies c ON c.id = t.company_id"),
    SearchType.LEAD: search_select(
        table="leads", title=f"coalesce(nullif({_PERSON}, ''), t.company_name, t.email, 'Lead')",
        subtitle="concat_ws(' · ', nullif(t.company_name, ''), nullif(t.email, ''), t.status)",
        where="t.deleted_at IS NULL"),
}


async def hits(session: AsyncSession, kinds: list[SearchType], query: SearchQuery,
               limit: int) -> list[tuple[SearchType, uuid.UUID, str, str, float]]:
    """The best `limit` hits of each kind, in one statement."""
    params: dict[str, Any] = search_params(query, limit)
    rows = await session.execute(text(union_select({kind.value: SELECTS[kind] for kind in kinds})), params)
    return [(SearchType(r.type), r.id, r.title or "", r.subtitle or "", float(r.score)) for r in rows]
