import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.quotes.models import CatalogueItem, Quote, QuoteStatus


class CatalogueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: CatalogueItem) -> None:
        self.session.add(item)

    async def get(self, item_id: uuid.UUID) -> CatalogueItem | None:
        return await self.session.get(CatalogueItem, item_id)

    async def by_name(self, name: str) -> CatalogueItem | None:
        return (await self.session.execute(
            select(CatalogueItem).where(func.lower(CatalogueItem.name) == name.lower()))).scalar_one_or_none()

    async def all(self, active: bool | None) -> list[CatalogueItem]:
        statement = select(CatalogueItem).order_by(CatalogueItem.name)
        if active is not None:
            statement = statement.where(CatalogueItem.active.is_(active))
        return list((await self.session.execute(statement)).scalars())


class QuoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, quote: Quote) -> None:
        self.session.add(quote)

    async def get(self, quote_id: uuid.UUID, *, for_update: bool = False) -> Quote | None:
        statement = select(Quote).where(Quote.id == quote_id)
        if for_update:
            statement = statement.with_for_update(of=Quote)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def of_deal(self, deal_id: uuid.UUID) -> list[Quote]:
        """The deal's revisions, newest first."""
        return list((await self.session.execute(
            select(Quote).where(Quote.deal_id == deal_id).order_by(Quote.revision.desc()))).scalars())

    async def latest_revision(self, deal_id: uuid.UUID) -> int:
        value = (await self.session.execute(
            select(func.max(Quote.revision)).where(Quote.deal_id == deal_id))).scalar_one()
        return int(value or 0)

    async def supersede_older(self, deal_id: uuid.UUID, revision: int) -> None:
        """Every draft or sent revision older than `revision` can no longer be accepted."""
        await self.session.execute(
            update(Quote).where(Quote.deal_id == deal_id, Quote.revision < revision,
                                Quote.status.in_([QuoteStatus.DRAFT, QuoteStatus.SENT]))
            .values(status=QuoteStatus.SUPERSEDED, updated_at=func.now())
            .execution_options(synchronize_session=False))
