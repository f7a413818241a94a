from datetime import date
from decimal import Decimal

from sqlalchemy import select, text
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

    async def rates_for_days(self, base: str, wanted: list[tuple[str, date]],
                             stale_days: int) -> dict[tuple[str, date], Decimal]:
        """For each (currency, day): the most recent rate dated up to `stale_days` before the day, in one statement
        (the ledger converts a whole bank import's payments at once); the pairs without one are left out."""
        if not wanted:
            return {}
        query = text("""
            SELECT w.currency, w.day, r.rate
            FROM unnest(CAST(:currencies AS text[]), CAST(:days AS date[])) AS w(currency, day)
            JOIN LATERAL (SELECT x.rate FROM exchange_rates x
                          WHERE x.base_currency = :base AND x.currency = w.currency
                            AND x.rate_date <= w.day AND x.rate_date >= w.day - CAST(:stale AS int)
                          ORDER BY x.rate_date DESC LIMIT 1) r ON true""")
        rows = await self.session.execute(query, {"currencies": [c for c, _ in wanted],
                                                  "days": [d for _, d in wanted], "base": base,
                                                  "stale": stale_days})
        return {(currency, day): rate for currency, day, rate in rows}

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
