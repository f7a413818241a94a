"""Money, once for every part of Throughline: ISO 4217 currencies and their minor units, rounding, checking
and splitting amounts. A sum of money is always a `Decimal` with its currency, never a float.

Both services, the event models and (through the gateway's `/assets/currencies.js`) the web app use this
module; nothing else keeps a currency table.
"""

import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

# ISO 4217 active codes by minor unit (digits after the decimal point).
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL "
    "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK "
    "PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)

MINOR_UNITS: dict[str, int] = {
    **{code: 0 for code in _ZERO.split()},
    **{code: 2 for code in _TWO.split()},
    **{code: 3 for code in _THREE.split()},
    **{code: 4 for code in _FOUR.split()},
}


ZERO = Decimal(0)

# A plain decimal as people and programs write money: optional sign, digits, optional fraction. No exponent,
# no digit separators, no padding: "1_000", " 5 " and "1e3" are not amounts.
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def is_currency(code: str) -> bool:
    return code in MINOR_UNITS


def check_currency(code: str) -> str:
    """`code` if it is an ISO 4217 alphabetic code; a ValueError a user can act on otherwise."""
    if code not in MINOR_UNITS:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


def quantum(currency: str) -> Decimal:
    """The currency's smallest unit as a Decimal exponent: 0.01 for EUR, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Banker's rounding to the currency's minor unit (what accounting ledgers expect)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def decimal_places(amount: Decimal) -> int:
    """Digits after the point that the value needs: 2 for 10.25, 1 for 10.50, 0 for 1500.0."""
    exponent = amount.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def check_amount(amount: Decimal, currency: str, *, field: str = "amount", allow_negative: bool = False) -> Decimal:
    """`amount` rounded to `currency` if the currency is known, the amount finite (and not negative unless
    allowed) and no finer than the currency's minor unit; a precise ValueError otherwise (callers answer 422)."""
    check_currency(currency)
    if not amount.is_finite():
        raise ValueError(f"{field} must be a finite number")
    if amount < 0 and not allow_negative:
        raise ValueError(f"{field} must be zero or more")
    if decimal_places(amount) > MINOR_UNITS[currency]:
        raise ValueError(f"{field} {amount} has more decimals than {currency} allows ({MINOR_UNITS[currency]})")
    return round_money(amount, currency)


def parse_decimal(text: str) -> Decimal:
    """A decimal written plainly ("12000.00", "-5", "0.5"); a ValueError for anything else, exponents, digit
    separators and surrounding blanks included."""
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a plain decimal number")
    try:
        return Decimal(text)
    except InvalidOperation:  # cannot happen for a matched string; kept so a bad input never escapes as a 500
        raise ValueError(f"{text!r} is not a decimal number") from None


def split_by_weights(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split `total` in proportion to `weights`; every part is rounded down to the minor unit and the
    remainder goes on the last part, so the parts always add up to the total exactly."""
    if not weights:
        raise ValueError("nothing to split into")
    step = quantum(currency)
    whole = sum(weights, ZERO)
    parts = [(total * w / whole).quantize(step, rounding=ROUND_DOWN) for w in weights[:-1]]
    parts.append(total - sum(parts, ZERO))
    return parts


def split_evenly(total: Decimal, count: int, currency: str) -> list[Decimal]:
    return split_by_weights(total, [Decimal(1)] * count, currency)
