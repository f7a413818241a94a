from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp.fx.models import ExchangeRate
from throughline_platform.paging import page_with_total


class ExchangeRateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, rows: list[dict[str, object]]) -> None:
        """Insert the rates, replacing the rate a day already had (an import re-run, or a correction)."""
        if not rows:
            return
        statement = insert(ExchangeRate).values(rows)
        statement = statement.on_conflict_do_update(
            constraint="uq_exchange_rates_day",
            set_={"rate": statement.excluded.rate, "source": statement.excluded.source,
                  "entered_by": statement.excluded.entered_by, "updated_at": statement.excluded.updated_at})
        await self.session.execute(statement)

    async def get(self, base: str, currency: str, day: date) -> ExchangeRate | None:
        query = select(ExchangeRate).where(ExchangeRate.base_currency == base, ExchangeRate.currency == currency,
                                           ExchangeRate.rate_date == day)
        return (await self.session.execute(query)).scalars().first()

    async def latest_on_or_before(self, base: str, currencies: list[str], day: date,
                                  oldest: date) -> dict[str, ExchangeRate]:
        """Each currency's most recent rate dated `oldest`..`day`, in one statement (DISTINCT ON)."""
        query = (select(ExchangeRate)
                 .where(ExchangeRate.base_currency == base, ExchangeRate.currency.in_(currencies),
                        ExchangeRate.rate_date <= day, ExchangeRate.rate_date >= oldest)
                 .order_by(ExchangeRate.currency, ExchangeRate.rate_date.desc())
                 .distinct(ExchangeRate.currency))
        return {r.currency: r for r in (await self.session.execute(query)).scalars()}

    async def search(self, base: str, currency: str | None, date_from: date | None, date_to: date | None,
                     limit: int, offset: int) -> tuple[list[ExchangeRate], int]:
        query = select(ExchangeRate).where(ExchangeRate.base_currency == base)
        if currency is not None:
            query = query.where(ExchangeRate.currency == currency)
        if date_from is not None:
            query = query.where(ExchangeRate.rate_date >= date_from)
        if date_to is not None:
            query = query.where(ExchangeRate.rate_date <= date_to)
        return await page_with_total(self.session, query, ExchangeRate.rate_date.desc(), ExchangeRate.currency,
                                     limit=limit, offset=offset)

    async def delete(self, rate: ExchangeRate) -> None:
        await self.session.delete(rate)
