"""The one place the budgets learn of bookings (people planned on the project ahead), for the forecast at completion:
through the planning's public module (docs/decisions.md, 134)."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from erp.planning.api import booked_hours


async def remaining_booked_hours(session: AsyncSession, project_id: uuid.UUID, from_day: date) -> dict[str, Decimal]:
    """The hours each person is booked on the project in the weeks starting on or after `from_day` (the weeks not yet
    begun, and this one when it begins today), by person id: a project's bookings count in full, tentative or
    confirmed (a deal's tentative ones are weighted only on the board, until the deal is won and staffed)."""
    return await booked_hours(session, project_id, from_day)
