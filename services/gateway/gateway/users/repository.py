import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import User
from throughline_platform.paging import page_with_total


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def by_email(self, email: str) -> User | None:
        return (await self.session.execute(
            select(User).where(func.lower(User.email) == email.lower()))).scalars().first()

    async def add(self, user: User) -> None:
        self.session.add(user)
        await self.session.flush()

    async def active_admins(self) -> int:
        return int((await self.session.execute(
            select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True)))).scalar_one())

    async def search(self, *, q: str | None, role: str | None, active: bool | None, limit: int, offset: int
                     ) -> tuple[list[User], int]:
        query = select(User)
        if q:
            pattern = f"%{q.lower()}%"
            query = query.where(or_(func.lower(User.email).like(pattern), func.lower(User.full_name).like(pattern)))
        if role:
            query = query.where(User.role == role)
        if active is not None:
            query = query.where(User.active.is_(active))
        return await page_with_total(self.session, query, User.created_at, User.id, limit=limit, offset=offset)

    async def active(self, limit: int = 1000) -> list[User]:
        return list((await self.session.execute(
            select(User).where(User.active.is_(True)).order_by(func.lower(User.full_name), func.lower(User.email))
            .limit(limit))).scalars())
