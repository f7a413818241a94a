"""What the other ERP packages use of the planning: the hours booked on a project from a week on (a budget's
forecast at completion is its actuals plus these)."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from erp.planning.repository import BookingRepository

__all__ = ["booked_hours"]


async def booked_hours(session: AsyncSession, project_id: uuid.UUID, from_week: date) -> dict[str, Decimal]:
    """The hours booked on the project (tentative and confirmed, in full) in weeks starting on or after `from_week`,
    by person. A deal's bookings count once its project is staffed from them."""
    return await BookingRepository(session).project_booked_hours(project_id, from_week)
