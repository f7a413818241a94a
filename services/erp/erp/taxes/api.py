"""What the other ERP packages use of the tax rates: the tax a line gets (`choice_of`, `default_choice`), the
proposal rule, and the first-time seeding of the company's country."""

from erp.taxes.models import EN16931_CODE, TaxCategory, TaxRate
from erp.taxes.rules import EU_MEMBER_STATES, TaxChoice, fallback_choice, proposes_reverse_charge, vat_country
from erp.taxes.service import choice_of, default_choice, seed_country

__all__ = ["EN16931_CODE", "EU_MEMBER_STATES", "TaxCategory", "TaxChoice", "TaxRate", "choice_of",
           "default_choice", "fallback_choice", "proposes_reverse_charge", "seed_country", "vat_country"]
