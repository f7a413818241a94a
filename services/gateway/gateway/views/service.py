"""Saved views: each person's named filters of a list. Only the owner sees, changes or deletes one: another
person's view answers 404, as if it did not exist."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import SavedView
from gateway.views.repository import SavedViewRepository
from gateway.views.schemas import ViewIn, ViewPatch
from throughline_platform.problems import Conflict, NotFound


async def create(session: AsyncSession, owner_id: str, data: ViewIn) -> SavedView:
    views = SavedViewRepository(session)
    if await views.named(owner_id, data.list, data.name) is not None:
        raise Conflict(f"You already have a view named {data.name!r} on this list.")
    view = SavedView(id=uuid.uuid4(), owner_id=owner_id, list_name=data.list, name=data.name, filters=data.filters)
    await views.add(view)
    await session.commit()
    return view


async def get(session: AsyncSession, owner_id: str, view_id: uuid.UUID) -> SavedView:
    view = await SavedViewRepository(session).owned(owner_id, view_id)
    if view is None:
        raise NotFound(f"You have no saved view {view_id}.")
    return view


async def update(session: AsyncSession, owner_id: str, view_id: uuid.UUID, data: ViewPatch) -> SavedView:
    view = await get(session, owner_id, view_id)
    if data.name is not None and data.name != view.name:
        if await SavedViewRepository(session).named(owner_id, view.list_name, data.name) is not None:
            raise Conflict(f"You already have a view named {data.name!r} on this list.")
        view.name = data.name
    if data.filters is not None:
        view.filters = data.filters
    await session.flush()
    await session.commit()
    return view


async def delete(session: AsyncSession, owner_id: str, view_id: uuid.UUID) -> None:
    view = await get(session, owner_id, view_id)
    await SavedViewRepository(session).delete(view)
    await session.commit()
