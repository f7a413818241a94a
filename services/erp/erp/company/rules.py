"""Checking what a company profile (or a client) says about itself, with kept libraries: countries (pycountry),
VAT IDs (python-stdnum), IBANs and BICs (schwifty). Each check returns the normalised value or raises ValueError
with what is wrong, in words a person can act on."""

from collections.abc import Callable

import pycountry
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.ch import vat as ch_vat
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.gb import vat as gb_vat
from stdnum.no import mva as no_mva

from throughline_events import money

# VAT ID prefixes that are not their country's ISO 3166 code (Greece, Northern Ireland).
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
_VALIDATORS: dict[str, Callable[[str], str]] = {
    **{code.upper(): eu_vat.validate for code in eu_vat.MEMBER_STATES | {"el"} if code != "gr"},
    "GB": gb_vat.validate, "CH": ch_vat.validate, "NO": no_mva.validate}


def check_country(code: str) -> str:
    code = code.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (DE, FR, GB, ...)")
    return code


def check_currency(code: str) -> str:
    code = code.strip().upper()
    try:
        return money.check_currency(code)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def vat_prefix_country(vat_id: str) -> str:
    prefix = vat_id[:2].upper()
    return _PREFIX_COUNTRY.get(prefix, prefix)


def check_vat_id(vat_id: str) -> str:
    """A VAT ID with its country prefix (DE136695976, EL..., XI..., GB..., CHE..., NO...MVA), checked by its
    country's rules; returns the compact form."""
    compact = "".join(vat_id.split()).replace("-", "").replace(".", "").upper()
    prefix = compact[:2]
    if len(compact) < 4 or not prefix.isalpha():
        raise ValueError(f"{vat_id!r} is not a VAT ID: give it with its country prefix, e.g. DE136695976")
    validate = _VALIDATORS.get(prefix)
    if validate is None:
        raise ValueError(f"VAT IDs of {prefix} cannot be checked here: give an EU, British, Swiss or Norwegian VAT "
                         "ID, or none")
    try:
        validate(compact)
    except ValidationError as exc:
        raise ValueError(f"{vat_id!r} is not a valid VAT ID ({exc})") from None
    return compact


def check_iban(iban: str) -> str:
    try:
        return IBAN(iban).compact
    except SchwiftyException as exc:
        raise ValueError(f"{iban!r} is not a valid IBAN ({exc})") from None


def check_bic(bic: str) -> str:
    try:
        return BIC(bic).compact
    except SchwiftyException as exc:
        raise ValueError(f"{bic!r} is not a valid BIC ({exc})") from None
