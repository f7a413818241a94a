"""What a CRM mail template may name, and the plain data it is rendered with.

The context is made of dicts of strings, never ORM objects, so a template sees exactly these fields. A field the
record does not have (a mail about a contact has no deal) is an empty string, so that `{% if deal.title %}` works
and saving a template checks every name against `VARIABLES` (an unknown one is a 422 naming its line).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crm.companies.api import Company, Contact
from crm.deals.api import Deal
from crm.leads.api import Lead
from throughline_events.money import round_money
from throughline_platform.mail.templates import Variables

VARIABLES: Variables = {
    "contact": {"first_name": None, "last_name": None, "full_name": None, "email": None, "title": None,
                "phone": None},
    "company": {"name": None, "domain": None, "email": None, "phone": None},
    "deal": {"title": None, "amount": None, "currency": None, "expected_close_date": None},
    "owner": {"name": None, "email": None},
}


@dataclass(frozen=True)
class Owner:
    name: str
    email: str


# What a preview without records renders with.
EXAMPLE: dict[str, dict[str, str]] = {
    "contact": {"first_name": "Ada", "last_name": "Lovelace", "full_name": "Ada Lovelace",
                "email": "ada@analytical.example", "title": "Head of Engineering", "phone": "+44 20 7946 0000"},
    "company": {"name": "Analytical Engines Ltd", "domain": "analytical.example", "email": "hello@analytical.example",
                "phone": "+44 20 7946 0001"},
    "deal": {"title": "Website relaunch", "amount": "12000.00", "currency": "EUR", "expected_close_date": "2027-03-31"},
    "owner": {"name": "Sam Seller", "email": "sam@throughline.example"},
}


def _blank(section: str) -> dict[str, str]:
    shape = VARIABLES[section]
    assert shape is not None
    return dict.fromkeys(shape, "")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def context(*, contact: Contact | None = None, lead: Lead | None = None, company: Company | None = None,
            deal: Deal | None = None, owner: Owner | None = None) -> dict[str, Any]:
    """The template context for these records (a lead stands in for the contact and names its company)."""
    values = {section: _blank(section) for section in VARIABLES}
    if contact is not None:
        values["contact"].update(first_name=contact.first_name, last_name=contact.last_name,
                                 full_name=contact.full_name, email=_text(contact.email), title=_text(contact.title),
                                 phone=_text(contact.phone))
    elif lead is not None:
        values["contact"].update(first_name=lead.first_name, last_name=lead.last_name, full_name=lead.full_name,
                                 email=_text(lead.email), title=_text(lead.title), phone=_text(lead.phone))
        values["company"].update(name=_text(lead.company_name), domain=_text(lead.company_domain))
    if company is not None:
        values["company"].update(name=company.name, domain=_text(company.domain), email=_text(company.email),
                                 phone=_text(company.phone))
    if deal is not None:
        values["deal"].update(title=deal.title, amount=_text(round_money(deal.amount, deal.currency)),
                              currency=deal.currency, expected_close_date=_text(deal.expected_close_date))
    if owner is not None:
        values["owner"].update(name=owner.name, email=owner.email)
    return values
