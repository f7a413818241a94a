"""What the other ERP packages use of the tax rates: the tax a line gets (`choice_of`, `default_choice`,
`fallback_choice`), the EN 16931 codes, the country of a VAT ID, and the first-time seeding of the company's
country."""

from erp.taxes.models import EN16931_CODE, TaxCategory
from erp.taxes.rules import TaxChoice, fallback_choice, plain_number, vat_country
from erp.taxes.service import choice_of, default_choice, seed_country

__all__ = ["EN16931_CODE", "TaxCategory", "TaxChoice", "choice_of", "default_choice", "fallback_choice",
           "plain_number", "seed_country", "vat_country"]
