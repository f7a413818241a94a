"""Money as the CRM accepts it: a Decimal with an ISO 4217 currency, no finer than the currency's minor unit."""

from decimal import Decimal

from throughline_events.currencies import MINOR_UNITS


def check_money(amount: Decimal, currency: str) -> None:
    """Raise ValueError with a message a user can act on."""
    if currency not in MINOR_UNITS:
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
    if not amount.is_finite() or amount < 0:
        raise ValueError("amount must be zero or more")
    digits = MINOR_UNITS[currency]
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > digits:
        raise ValueError(f"{currency} amounts have at most {digits} decimal places")


def normalize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]))
