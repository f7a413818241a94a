import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp.people.models import Person
from throughline_platform.paging import page_with_total


class PersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, person_id: str, *, for_update: bool = False) -> Person | None:
        return await self.session.get(Person, person_id, with_for_update=for_update)

    async def names(self, person_ids: set[str]) -> dict[str, str]:
        rows = await self.session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids)))
        return {person_id: name for person_id, name in rows.tuples()}

    async def search(self, *, q: str | None, active: bool | None, department: str | None,
                     cost_center_id: uuid.UUID | None, limit: int, offset: int) -> tuple[list[Person], int]:
        query = select(Person)
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(Person.name.ilike(pattern) | Person.email.ilike(pattern))
        if active is not None:
            query = query.where(Person.active.is_(active))
        if department is not None:
            query = query.where(Person.department == department)
        if cost_center_id is not None:
            query = query.where(Person.cost_center_id == cost_center_id)
        return await page_with_total(self.session, query, func.lower(Person.name), Person.id, limit=limit,
                                     offset=offset)

    async def apply_user_state(self, *, person_id: str, email: str, name: str, role: str, active: bool,
                               changed_at: datetime) -> None:
        """The gateway's user as it is at `changed_at`: a new person, or an existing one brought up to date; a state
        older than the one the row holds changes nothing (events of one user arrive in order, but a replayed dead
        letter may come late). One statement: two deliveries at once cannot both insert."""
        statement = insert(Person).values(id=person_id, email=email, name=name, role=role, active=active,
                                          user_changed_at=changed_at)
        excluded = statement.excluded
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=[Person.id],
            set_={"email": excluded.email, "name": excluded.name, "role": excluded.role, "active": excluded.active,
                  "user_changed_at": excluded.user_changed_at, "updated_at": func.now()},
            where=Person.user_changed_at <= excluded.user_changed_at))

    async def deactivate(self, person_id: str, at: datetime) -> None:
        await self.session.execute(
            update(Person).where(Person.id == person_id, Person.user_changed_at <= at)
            .values(active=False, user_changed_at=at, updated_at=func.now()))
