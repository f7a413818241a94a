from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession


async def new_leads_owned_by(session: AsyncSession, user_id: str, limit: int) -> list[Row[Any]]:
    """Live leads the user owns that nobody has worked yet (status new), newest first."""
    result = await session.execute(text(
        "SELECT id, first_name, last_name, company_name, email, created_at FROM leads "
        "WHERE owner_id = :me AND status = 'new' AND deleted_at IS NULL ORDER BY created_at DESC LIMIT :limit"),
        {"me": user_id, "limit": limit})
    return list(result.all())


async def open_tasks_due(session: AsyncSession, user_id: str, until: datetime, limit: int) -> list[Row[Any]]:
    """The user's open tasks due before `until`, soonest first."""
    result = await session.execute(text(
        "SELECT id, title, due_at FROM tasks WHERE assignee_id = :me AND status = 'open' AND due_at <= :until "
        "ORDER BY due_at LIMIT :limit"), {"me": user_id, "until": until, "limit": limit})
    return list(result.all())
