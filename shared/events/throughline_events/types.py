"""Field types of the contract: money as decimal strings with ISO 4217 currencies, UTC timestamps.

And, at the end, the field types of the HTTP APIs' requests (both services' schemas use them): stricter than the
contract's, which reads events tolerantly (DESIGN 3), because a request is typed by a person or written by a
client we do not control, and what is accepted there is stored and published.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, PlainSerializer, WithJsonSchema

from throughline_events.money import check_currency, parse_decimal


def _decimal_from_string(value: Any) -> Any:
    # Floats lose cents; the contract only accepts money as a decimal string.
    if isinstance(value, float):
        raise ValueError("money must be a decimal string, not a JSON number")
    if isinstance(value, str):
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
        if not parsed.is_finite():
            raise ValueError("money must be a finite number")
        return parsed
    return value


def _require_utc_offset(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamps must carry a UTC offset")
    return value


def _utc_iso(value: datetime) -> str:
    offset = value.utcoffset()
    if offset == timedelta(0):
        return value.replace(tzinfo=None).isoformat() + "Z"
    return value.isoformat()


DecimalString = Annotated[Decimal, BeforeValidator(_decimal_from_string), PlainSerializer(str, return_type=str)]
"""A decimal carried as a JSON string ("12000.00")."""

CurrencyCode = Annotated[str, AfterValidator(check_currency)]
"""An ISO 4217 alphabetic code ("EUR")."""

UtcDateTime = Annotated[datetime, AfterValidator(_require_utc_offset), PlainSerializer(_utc_iso, return_type=str)]
"""A timestamp with an offset, written as UTC with a trailing Z when it is UTC."""


# --- request input ---------------------------------------------------------------------------------------------
#
# Business dates (an expense's date, a due date, a report's period, a run's as_of) lie between these two, both
# included: one place for the bound. Nothing the system does happens before 2000 or after 2100, and dates outside
# are typing mistakes (year 1, 9999-12-31) that used to overflow date arithmetic (a 500) or pass as data.
FIRST_BUSINESS_DATE = date(2000, 1, 1)
LAST_BUSINESS_DATE = date(2100, 12, 31)

_PLAIN_DECIMAL_PATTERN = r"^[+-]?[0-9]+(\.[0-9]+)?$"


def check_business_date(value: date) -> date:
    """`value` if it lies within FIRST_BUSINESS_DATE..LAST_BUSINESS_DATE; a ValueError (a 422) otherwise."""
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_BUSINESS_DATE <= day <= LAST_BUSINESS_DATE:
        raise ValueError(f"dates lie between {FIRST_BUSINESS_DATE.isoformat()} and {LAST_BUSINESS_DATE.isoformat()}")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}.*")


def _iso_date_text(value: Any) -> Any:
    # Pydantic would also read a number (or a string of digits) as seconds since 1970: `0` was 1970-01-01.
    if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATE.fullmatch(value)):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


def _iso_datetime_text(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATETIME.fullmatch(value)):
        raise ValueError("a moment is written YYYY-MM-DDTHH:MM:SS with its UTC offset (ISO 8601)")
    return value


def _money_input(value: Any) -> Any:
    # Money is a decimal string written plainly: a JSON number may already have lost cents in the client (binary
    # floats), and "1_000", " 5 " or "1e3" are not how anyone writes an amount (money.parse_decimal).
    if isinstance(value, str):
        return parse_decimal(value)
    if isinstance(value, int | float):  # bool is an int
        raise ValueError('money is a decimal string ("1250.00"), not a JSON number')
    return value  # a Decimal from Python callers; anything else fails the decimal check


def _decimal_input(value: Any) -> Any:
    # A quantity, hours or a percentage: a decimal string, or a JSON integer for a whole number; a JSON fraction is
    # a binary float (0.1 is not 0.1), so it is refused.
    if isinstance(value, bool | float):
        raise ValueError('give a decimal string ("1.5") or a whole number, not a JSON fraction')
    if isinstance(value, str):
        return parse_decimal(value)
    return value


MoneyInput = Annotated[
    Decimal, BeforeValidator(_money_input),
    WithJsonSchema({"type": "string", "pattern": _PLAIN_DECIMAL_PATTERN, "examples": ["1250.00"]}),
]
"""Money in a request: a plain decimal string only (no JSON number, exponent, digit separator or blank). Its
currency's minor unit is checked where the currency is known (`money.check_amount`)."""

DecimalInput = Annotated[
    Decimal, BeforeValidator(_decimal_input),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": _PLAIN_DECIMAL_PATTERN}, {"type": "integer"}],
                    "examples": ["1.5"]}),
]
"""A quantity, hours or a percentage in a request: a plain decimal string, or a JSON integer."""

BusinessDate = Annotated[date, BeforeValidator(_iso_date_text), AfterValidator(check_business_date)]
"""A business date in a request: YYYY-MM-DD, within FIRST_BUSINESS_DATE..LAST_BUSINESS_DATE."""

BusinessDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime_text), AfterValidator(check_business_date)]
"""A moment in a request: ISO 8601 with a UTC offset, on a business date."""
