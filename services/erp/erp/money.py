"""Money in the ERP: Decimal with a currency, rounded by the currency's minor unit, split without losing a cent."""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from throughline_events.currencies import MINOR_UNITS


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Banker's rounding to the currency's minor unit (what accounting ledgers expect)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def split_by_weights(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split `total` in proportion to `weights`; every part is rounded down to the minor unit and the
    remainder goes on the last part, so the parts always add up to the total exactly."""
    if not weights:
        raise ValueError("nothing to split into")
    step = quantum(currency)
    whole = sum(weights, Decimal(0))
    parts = [(total * w / whole).quantize(step, rounding=ROUND_DOWN) for w in weights[:-1]]
    parts.append(total - sum(parts, Decimal(0)))
    return parts


def split_evenly(total: Decimal, count: int, currency: str) -> list[Decimal]:
    return split_by_weights(total, [Decimal(1)] * count, currency)
