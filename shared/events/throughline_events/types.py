"""Field types of the contract: money as decimal strings with ISO 4217 currencies, UTC timestamps."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from throughline_events.money import check_currency


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
