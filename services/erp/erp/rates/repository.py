import uuid
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.rates.models import BillRate, Capacity, CostRate, ListRate
from throughline_platform.paging import page_with_total

Row = TypeVar("Row", CostRate, BillRate, Capacity, ListRate)
# The dated series kept per person (by `user_id`, the person's id).
PersonRow = TypeVar("PersonRow", CostRate, Capacity, ListRate)


class RateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: CostRate | BillRate | Capacity | ListRate) -> None:
        self.session.add(row)

    async def get(self, model: type[Row], row_id: uuid.UUID) -> Row | None:
        return await self.session.get(model, row_id)

    async def delete(self, row: CostRate | BillRate | Capacity | ListRate) -> None:
        await self.session.delete(row)

    async def at(self, model: type[Row], key: Any, effective_from: date) -> Row | None:
        """The row of one person (or project) starting exactly on `effective_from`."""
        column = model.project_id if model is BillRate else model.user_id  # type: ignore[attr-defined]
        query = select(model).where(column == key, model.effective_from == effective_from)
        return (await self.session.execute(query)).scalars().first()

    async def effective(self, model: type[Row], key: Any, on: date) -> Row | None:
        """The row in force on `on`: the latest one that started on or before it."""
        column = model.project_id if model is BillRate else model.user_id  # type: ignore[attr-defined]
        query = (select(model).where(column == key, model.effective_from <= on)
                 .order_by(model.effective_from.desc()).limit(1))
        return (await self.session.execute(query)).scalars().first()

    async def search(self, model: type[Row], key: Any | None, limit: int, offset: int) -> tuple[list[Row], int]:
        column = model.project_id if model is BillRate else model.user_id  # type: ignore[attr-defined]
        query = select(model)
        if key is not None:
            query = query.where(column == key)
        return await page_with_total(self.session, query, column, model.effective_from.desc(), limit=limit,
                                     offset=offset)

    async def in_force(self, model: type[PersonRow], user_ids: list[str], on: date) -> dict[str, PersonRow]:
        """Each person's row in force on `on` (the latest that started on or before it), for many people in one
        query: the directory's page asks once per series, not once per person."""
        if not user_ids:
            return {}
        query = (select(model).where(model.user_id.in_(user_ids), model.effective_from <= on)
                 .order_by(model.user_id, model.effective_from.desc()).distinct(model.user_id))
        return {row.user_id: row for row in (await self.session.execute(query)).scalars()}

    async def series(self, model: type[PersonRow], user_id: str) -> list[PersonRow]:
        """A person's whole series, the latest first: the history the person's page shows."""
        query = select(model).where(model.user_id == user_id).order_by(model.effective_from.desc())
        return list((await self.session.execute(query)).scalars())
