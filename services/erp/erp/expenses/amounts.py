"""Checking money entered by hand: a known currency and no more decimals than its minor unit allows.

(A candidate for erp/money.py, shared by all ERP features; kept here so as not to edit a shared file.)"""

from decimal import ROUND_DOWN, Decimal

from erp.money import quantum, round_money
from throughline_events.currencies import MINOR_UNITS


def check_money(amount: Decimal, currency: str, field: str = "amount") -> Decimal:
    """The amount if `currency` is a known ISO 4217 code and `amount` has no more decimals than its minor
    unit allows; a precise ValueError otherwise (callers turn it into a 422)."""
    if currency not in MINOR_UNITS:
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code.")
    if not amount.is_finite():
        raise ValueError(f"{field} must be a finite number.")
    if amount != amount.quantize(quantum(currency), rounding=ROUND_DOWN):
        raise ValueError(f"{field} {amount} has more decimals than {currency} allows ({MINOR_UNITS[currency]}).")
    return round_money(amount, currency)
