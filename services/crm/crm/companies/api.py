"""What the rest of the CRM uses of companies and contacts: the records (deals join them), looking them up,
staging new ones (lead conversion, CSV import), their input schemas, and the port deals answer
(`company_has_open_deals`, connected by crm.app)."""

from crm.companies.models import Company, Contact
from crm.companies.repository import CompanyRepository, ContactRepository
from crm.companies.schemas import DOMAIN_PATTERN, CompanyIn, ContactIn
from crm.companies.service import add_company, add_contact, change_company, change_contact, company_has_open_deals

__all__ = [
    "DOMAIN_PATTERN",
    "Company",
    "CompanyIn",
    "CompanyRepository",
    "Contact",
    "ContactIn",
    "ContactRepository",
    "add_company",
    "add_contact",
    "change_company",
    "change_contact",
    "company_has_open_deals",
]
