"""The one place the planning asks whether a person may be booked: a person who exists and is active.

Until the people directory (erp.people, issue 23's people part) lands on this branch, a bookable person is one the
ERP has a weekly capacity for (erp.rates): the planning board's people are exactly those, so a booking never names
someone the board cannot show. The coordinator rewires this function to `erp.people.api.require_active_person`
(decision 143); nothing else in the package asks."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from throughline_platform.problems import Unprocessable

# SQL rather than erp.rates' model: erp.rates has no public module on this branch, and this check is temporary.
_HAS_CAPACITY = text("SELECT EXISTS (SELECT 1 FROM capacities WHERE user_id = :person_id)")


async def require_bookable_person(session: AsyncSession, person_id: str) -> None:
    """A 422 problem unless `person_id` names a person who may be booked (nothing is written then)."""
    known = (await session.execute(_HAS_CAPACITY, {"person_id": person_id})).scalar_one()
    if not known:
        raise Unprocessable(f"There is no person {person_id!r} to book: people are booked once they have a weekly "
                            "capacity.", type_slug="unknown-person")
