"""Exchange rates per day, against the company's base currency, entered by hand or imported from CSV; and the one
conversion every package uses (`to_base`).

None are shipped: an embedded default has no market data, and a rate made up here would silently misstate every
converted report. A conversion finds the day's rate or the latest one before it, at most `STALE_DAYS` old (banks and
the ECB publish none at weekends and on holidays); without one it is a 422 that names the currency and the day.
"""

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from erp.company.api import base_currency
from erp.db import utcnow
from erp.fx.models import ExchangeRate, RateSource
from erp.fx.repository import ExchangeRateRepository
from erp.fx.schemas import MAX_RATE, MIN_RATE, ImportResult, RateIn
from throughline_events.money import check_currency, decimal_places, parse_decimal, round_money
from throughline_events.types import check_business_date
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import NotFound, Unprocessable

STALE_DAYS = 7
MAX_IMPORT_ROWS = 20_000
NO_RATES_NOTE = ("No exchange rates are shipped with Throughline: enter the rates you use, or import them from a "
                 "CSV file (date,currency,rate). Amounts in another currency than the base currency cannot be "
                 "converted until then.")


@dataclass(frozen=True)
class Rate:
    currency: str
    base_currency: str
    rate: Decimal
    rate_date: date


class MissingRate(Unprocessable):
    """A conversion without a usable rate (a 422 naming the currency and the day)."""

    def __init__(self, currency: str, base: str, on_date: date) -> None:
        super().__init__(
            f"There is no exchange rate of {currency} to {base} for {on_date.isoformat()} (nor in the "
            f"{STALE_DAYS} days before it): enter one at /api/erp/exchange-rates.",
            type_slug="missing-exchange-rate", currency=currency, base_currency=base, date=on_date.isoformat())


async def required_base(session: AsyncSession) -> str:
    base = await base_currency(session)
    if base is None:
        raise Unprocessable("The company profile (and its base currency) is not set up yet: "
                            "PUT /api/erp/settings/company first.", type_slug="company-profile-missing")
    return base


async def rates_on(session: AsyncSession, currencies: set[str], on_date: date) -> dict[str, Rate]:
    """The rate of each currency on `on_date` (the base currency's is 1), in one query; MissingRate for the first
    currency without one."""
    base = await required_base(session)
    foreign = sorted(c for c in currencies if c != base)
    found = await ExchangeRateRepository(session).latest_on_or_before(
        base, foreign, on_date, on_date - timedelta(days=STALE_DAYS)) if foreign else {}
    out = {base: Rate(base, base, Decimal(1), on_date)} if base in currencies else {}
    for currency in foreign:
        row = found.get(currency)
        if row is None:
            raise MissingRate(currency, base, on_date)
        out[currency] = Rate(currency, base, row.rate, row.rate_date)
    return out


async def rate_on(session: AsyncSession, currency: str, on_date: date) -> Rate:
    return (await rates_on(session, {currency}, on_date))[currency]


async def to_base(session: AsyncSession, amount: Decimal, currency: str, on_date: date) -> Decimal:
    """`amount` of `currency` in the company's base currency at the rate of `on_date`, rounded to the base
    currency's minor unit. MissingRate (422) without a rate; the base currency's amount is returned as is."""
    rate = await rate_on(session, currency, on_date)
    return round_money(amount * rate.rate, rate.base_currency)


async def known_rates(session: AsyncSession, wanted: set[tuple[str, date]]
                      ) -> tuple[str | None, dict[tuple[str, date], Decimal]]:
    """The base currency (None before the company profile is set up) and the rate of each (currency, day) that has
    one (the day's, or the latest in the `STALE_DAYS` before it), in at most two queries; never a MissingRate: the
    ledger posts a fact whatever the rates and leaves what it cannot convert unconverted."""
    base = await base_currency(session)
    if base is None:
        return None, {}
    foreign = sorted((c, d) for c, d in wanted if c != base)
    return base, await ExchangeRateRepository(session).rates_for_days(base, foreign, STALE_DAYS)


# --- keeping rates -------------------------------------------------------------------------------


async def put_rate(uow: UnitOfWork, principal: Principal, body: RateIn) -> ExchangeRate:
    base = await required_base(uow.session)
    _check_pair(body.currency, base)
    repo = ExchangeRateRepository(uow.session)
    await repo.upsert([_row(base, body.currency, body.rate_date, body.rate, RateSource.MANUAL, principal)])
    await uow.session.flush()
    rate = await repo.get(base, body.currency, body.rate_date)
    assert rate is not None  # just written
    await uow.session.refresh(rate)
    await uow.commit()
    return rate


async def delete_rate(uow: UnitOfWork, rate_id: uuid.UUID) -> None:
    rate = await uow.session.get(ExchangeRate, rate_id)
    if rate is None:
        raise NotFound(f"Exchange rate {rate_id} does not exist.")
    await ExchangeRateRepository(uow.session).delete(rate)
    await uow.commit()


async def import_csv(uow: UnitOfWork, principal: Principal, data: bytes) -> ImportResult:
    """Rows `date,currency,rate` (a header row first; comma or semicolon; a decimal point). Every row is checked
    before anything is written: one bad row refuses the file, naming each bad row."""
    base = await required_base(uow.session)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unprocessable("The file is not UTF-8 text.", type_slug="invalid-csv") from None
    dialect = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=dialect)
    header = [c.strip().lower() for c in next(reader, [])]
    if header[:3] != ["date", "currency", "rate"]:
        raise Unprocessable("The first row must be the header date,currency,rate.", type_slug="invalid-csv")
    rows: dict[tuple[str, date], Decimal] = {}
    errors: list[dict[str, object]] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise Unprocessable(f"A file holds at most {MAX_IMPORT_ROWS} rates.", type_slug="invalid-csv")
        try:
            day, currency, rate = _parse_row(cells, base)
        except ValueError as exc:
            errors.append({"row": number, "message": str(exc)})
            continue
        rows[(currency, day)] = rate
    if errors:
        raise Unprocessable(f"{len(errors)} row(s) of the file are wrong; nothing was imported.",
                            type_slug="invalid-csv", errors=errors[:50])
    if not rows:
        raise Unprocessable("The file holds no rates.", type_slug="invalid-csv")
    await ExchangeRateRepository(uow.session).upsert(
        [_row(base, currency, day, rate, RateSource.CSV, principal) for (currency, day), rate in rows.items()])
    await uow.commit()
    days = [day for _, day in rows]
    return ImportResult(base_currency=base, imported=len(rows), currencies=sorted({c for c, _ in rows}),
                        date_from=min(days), date_to=max(days))


def _parse_row(cells: list[str], base: str) -> tuple[date, str, Decimal]:
    if len(cells) < 3:
        raise ValueError("a row has three cells: date,currency,rate")
    day_text, currency, rate_text = (c.strip() for c in cells[:3])
    try:
        day = check_business_date(date.fromisoformat(day_text))
    except ValueError:
        raise ValueError(f"{day_text!r} is not a date YYYY-MM-DD between 2000 and 2100") from None
    currency = currency.upper()
    _check_pair(currency, base, error=ValueError)
    rate = parse_decimal(rate_text)
    if not MIN_RATE <= rate <= MAX_RATE or decimal_places(rate) > 10:
        raise ValueError(f"the rate {rate_text} is not between {MIN_RATE} and {MAX_RATE} with at most 10 decimals")
    return day, currency, rate


def _check_pair(currency: str, base: str, error: type[Exception] = Unprocessable) -> None:
    try:
        check_currency(currency)
    except ValueError as exc:
        raise error(str(exc)) from None
    if currency == base:
        raise error(f"{currency} is the base currency: its rate is always 1")


def _row(base: str, currency: str, day: date, rate: Decimal, source: RateSource,
         principal: Principal) -> dict[str, object]:
    now = utcnow()
    return {"id": uuid.uuid4(), "base_currency": base, "currency": currency, "rate_date": day, "rate": rate,
            "source": source, "entered_by": principal.user_id, "created_at": now, "updated_at": now}
