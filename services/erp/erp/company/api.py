"""What the other ERP packages use of the company profile: the seller snapshot an invoice keeps, the company's
country and base currency, and its logos (by content hash); and the checks of a party's country, currency,
VAT ID and IBAN (vendors are checked like the company)."""

from erp.company.rules import check_country, check_currency, check_iban, check_vat_id
from erp.company.service import base_currency, current_seller, defaults, logo

__all__ = ["base_currency", "check_country", "check_currency", "check_iban", "check_vat_id", "current_seller",
           "defaults", "logo"]
