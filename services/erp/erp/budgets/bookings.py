"""The one place the budgets learn of bookings (people planned on the project ahead), for the forecast at completion.

Bookings are the planning package's (erp.planning, issue 23, built alongside). Until it is wired here, a project has
no booked hours and its forecast is its actuals; the coordinator replaces this body with a call to
`erp.planning.api` (docs/decisions.md, 134)."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession


async def remaining_booked_hours(session: AsyncSession, project_id: uuid.UUID, from_day: date) -> dict[str, Decimal]:
    """The hours each person is booked on the project from `from_day` on (the weeks not yet worked), by person id:
    confirmed bookings at their hours, tentative ones weighted as the planning board weighs them."""
    del session, project_id, from_day  # no bookings yet: see the module's docstring
    return {}
