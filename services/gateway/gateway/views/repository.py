import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import SavedView


class SavedViewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def owned(self, owner_id: str, view_id: uuid.UUID) -> SavedView | None:
        view = await self.session.get(SavedView, view_id)
        return view if view is not None and view.owner_id == owner_id else None

    async def named(self, owner_id: str, list_name: str, name: str) -> SavedView | None:
        query = select(SavedView).where(SavedView.owner_id == owner_id, SavedView.list_name == list_name,
                                        SavedView.name == name)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def of(self, owner_id: str, list_name: str | None) -> list[SavedView]:
        query = select(SavedView).where(SavedView.owner_id == owner_id)
        if list_name is not None:
            query = query.where(SavedView.list_name == list_name)
        return list((await self.session.execute(query.order_by(SavedView.list_name, SavedView.name).limit(500)))
                    .scalars())

    async def add(self, view: SavedView) -> None:
        self.session.add(view)
        await self.session.flush()

    async def delete(self, view: SavedView) -> None:
        await self.session.delete(view)
        await self.session.flush()
