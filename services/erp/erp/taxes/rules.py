"""Tax rules without a database: what a line's tax is, when reverse charge is proposed, each country's standard rate.

Reverse charge is *proposed* (a client's default, which finance may change), never forced: whether a supply is
taxed where the buyer is depends on what is supplied, which the ERP does not know. The proposal follows the EU
rule for business-to-business services (Art. 44 and 196 of Directive 2006/112/EC): the buyer has a valid VAT ID
of another member state than the seller's, and the seller is in the EU.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from erp.taxes.models import NOTE_REQUIRED, ZERO_PERCENT, TaxCategory


def plain_number(value: Decimal) -> Decimal:
    """A percent or quantity as people write it: 19.0000 -> 19, 2.5000 -> 2.5 (never an exponent)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})

# VAT ID prefixes that are not the ISO 3166 code of their country.
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}

# The standard VAT rate of each country, as of January 2026, added once when the company profile first names its
# country (`service.seed_country`). A convenience, not a source of truth: rates are data, finance edits them,
# and adds the reduced rates its supplies need.
STANDARD_RATES: dict[str, Decimal] = {k: Decimal(v) for k, v in {
    "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25", "EE": "24", "ES": "21",
    "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27", "IE": "23", "IT": "22", "LT": "21", "LU": "17",
    "LV": "21", "MT": "18", "NL": "21", "PL": "23", "PT": "23", "RO": "21", "SE": "25", "SI": "22", "SK": "23",
    "GB": "20", "CH": "8.1", "NO": "25", "IS": "24", "LI": "8.1",
}.items()}


@dataclass(frozen=True)
class TaxChoice:
    """The tax a line carries, as it was when the line was written (`rate_id` None: a percent given directly, or
    the server-wide fallback)."""

    rate_id: uuid.UUID | None
    percent: Decimal
    category: str
    note: str | None


def fallback_choice(percent: Decimal) -> TaxChoice:
    """A percent without a rate (the API's `tax_rate`, or ERP_DEFAULT_TAX_RATE when no rate is the default)."""
    return TaxChoice(None, percent, TaxCategory.STANDARD if percent > 0 else TaxCategory.ZERO, None)


def rate_problem(category: str, percent: Decimal, note: str | None) -> tuple[str, str] | None:
    """(field, message) of what is wrong with a rate, or None."""
    if category in ZERO_PERCENT and percent != 0:
        return "percent", f"a {category.replace('_', ' ')} rate is 0 %, not {percent.normalize():f} %"
    if category not in ZERO_PERCENT and percent <= 0:
        return "percent", f"a {category} rate is more than 0 %"
    if category in NOTE_REQUIRED and not (note and note.strip()):
        return "legal_note", f"a {category.replace('_', ' ')} rate needs the legal note printed on the invoice"
    return None


def vat_country(vat_id: str | None) -> str | None:
    """The ISO 3166 country of a valid EU VAT ID (EL... is Greece), or None when it is not one."""
    if not vat_id:
        return None
    try:
        compact = eu_vat.validate(vat_id)
    except ValidationError:
        return None
    prefix = compact[:2].upper()
    return _PREFIX_COUNTRY.get(prefix, prefix)


def proposes_reverse_charge(company_country: str | None, client_vat_id: str | None) -> bool:
    """A business client in another EU member state than ours (by its valid VAT ID), and we are in the EU."""
    client_country = vat_country(client_vat_id)
    return (company_country in EU_MEMBER_STATES and client_country in EU_MEMBER_STATES
            and client_country != company_country)
