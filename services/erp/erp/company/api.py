"""What the other ERP packages use of the company profile: the seller snapshot an invoice keeps, the company's
country and base currency, and its logos (by content hash)."""

from erp.company.rules import check_country
from erp.company.service import current_seller, defaults, logo

__all__ = ["check_country", "current_seller", "defaults", "logo"]
