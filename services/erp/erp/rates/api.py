"""What the other ERP packages use of the rates: a person's dated series (cost rate, weekly capacity, list rate),
which the people directory shows and sets (`erp.people`), read and written through the repository."""

from erp.rates.models import Capacity, CostRate, ListRate
from erp.rates.repository import PersonRow, RateRepository

__all__ = ["Capacity", "CostRate", "ListRate", "PersonRow", "RateRepository"]
