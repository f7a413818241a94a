"""Company and contact rules: duplicates (same domain or email) are refused unless created on purpose, and then
flagged; deletes are soft; every change bumps the version and is published for the ERP's replica."""

import uuid
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm.companies.models import Company, Contact
from crm.companies.repository import CompanyRepository, ContactRepository
from crm.companies.schemas import CompanyIn, ContactIn
from crm.db import utcnow
from crm.ports import Port
from throughline_events.crm import CompanyCreatedV1, CompanyUpdatedV1, ContactCreatedV1, ContactUpdatedV1
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable

# Asked before a company is deleted. Deals name their company, so the deals package sits above this one and
# answers through the port (crm/ports.py).
company_has_open_deals: Port[[AsyncSession, uuid.UUID], Awaitable[bool]] = Port("whether a company has open deals")

# --- companies -----------------------------------------------------------------------------------


async def company_duplicate(companies: CompanyRepository, domain: str | None, email: str | None,
                            exclude: uuid.UUID | None = None) -> tuple[Company, str] | None:
    """An existing live company with the same domain or email, and which of the two matched."""
    if domain:
        existing = await companies.find_by_domain(domain)
        if existing is not None and existing.id != exclude:
            return existing, f"the domain {domain!r}"
    if email:
        existing = await companies.find_by_email(email)
        if existing is not None and existing.id != exclude:
            return existing, f"the email {email!r}"
    return None


def _company_conflict(found: tuple[Company, str]) -> Conflict:
    company, what = found
    return Conflict(f"A company with {what} already exists ({company.name!r}). Send allow_duplicate=true to "
                    "create it anyway; it is then flagged as a possible duplicate.",
                    type_slug="duplicate-company", duplicate_of=str(company.id))


def new_company(data: dict[str, Any], duplicate_of: uuid.UUID | None) -> Company:
    """A company staged for insert with its company.created event (the caller adds it to the session)."""
    company = Company(id=uuid.uuid4(), version=1, duplicate_of=duplicate_of, **data)
    company.created_at = company.updated_at = utcnow()
    company.record(CompanyCreatedV1(company_id=company.id, **_state(company)))
    return company


async def add_company(uow: UnitOfWork, data: CompanyIn, *, allow_duplicate: bool = False) -> Company:
    """Stage a company (no commit): for create, lead conversion and import."""
    companies = CompanyRepository(uow.session)
    found = await company_duplicate(companies, data.domain, data.email)
    if found is not None and not allow_duplicate:
        raise _company_conflict(found)
    company = new_company(data.model_dump(), found[0].id if found else None)
    companies.add(company)
    return company


async def create_company(uow: UnitOfWork, data: CompanyIn, *, allow_duplicate: bool = False) -> Company:
    company = await add_company(uow, data, allow_duplicate=allow_duplicate)
    await uow.commit()
    return company


async def update_company(uow: UnitOfWork, company_id: uuid.UUID, changes: dict[str, object]) -> Company:
    company = await change_company(uow, company_id, changes)
    await uow.commit()
    return company


async def change_company(uow: UnitOfWork, company_id: uuid.UUID, changes: dict[str, object]) -> Company:
    """Stage a change of a company with its company.updated event (no commit): for update and import."""
    companies = CompanyRepository(uow.session)
    company = await companies.get(company_id, for_update=True)
    if company is None:
        raise NotFound(f"Company {company_id} does not exist.")
    if "name" in changes and changes["name"] is None:
        raise Unprocessable("name: a company needs a name.")
    domain = changes.get("domain")
    email = changes.get("email")
    new_domain = domain if isinstance(domain, str) and domain.lower() != (company.domain or "").lower() else None
    new_email = email if isinstance(email, str) and email.lower() != (company.email or "").lower() else None
    found = await company_duplicate(companies, new_domain, new_email, exclude=company.id)
    if found is not None:
        existing, what = found
        raise Conflict(f"A company with {what} already exists ({existing.name!r}).",
                       type_slug="duplicate-company", duplicate_of=str(existing.id))
    if not any(getattr(company, field) != value for field, value in changes.items()):
        return company  # nothing changed: no new version, no event
    for field, value in changes.items():
        setattr(company, field, value)
    company.version += 1
    company.updated_at = utcnow()
    company.record(CompanyUpdatedV1(company_id=company.id, **_state(company)))
    return company


async def delete_company(uow: UnitOfWork, company_id: uuid.UUID) -> None:
    companies = CompanyRepository(uow.session)
    company = await companies.get(company_id, for_update=True)
    if company is None:
        raise NotFound(f"Company {company_id} does not exist.")
    if await company_has_open_deals(uow.session, company.id):
        raise Conflict("The company has open deals; win, lose or move them first.", type_slug="company-has-open-deals")
    company.deleted_at = company.updated_at = utcnow()
    company.version += 1
    company.record(CompanyUpdatedV1(company_id=company.id, deleted=True, **_state(company)))
    await uow.commit()


async def get_company(uow: UnitOfWork, company_id: uuid.UUID) -> Company:
    company = await CompanyRepository(uow.session).get(company_id)
    if company is None:
        raise NotFound(f"Company {company_id} does not exist.")
    return company


def _state(company: Company) -> dict[str, object]:
    return {"name": company.name, "domain": company.domain, "email": company.email, "phone": company.phone,
            "address": company.address, "version": company.version, "changed_at": company.updated_at}


# --- contacts ------------------------------------------------------------------------------------


async def add_contact(uow: UnitOfWork, data: ContactIn, *, allow_duplicate: bool = False) -> Contact:
    """Stage a contact with its contact.created event (no commit)."""
    contacts = ContactRepository(uow.session)
    if data.company_id is not None and await CompanyRepository(uow.session).get(data.company_id) is None:
        raise Unprocessable(f"company_id: company {data.company_id} does not exist.")
    duplicate_of: uuid.UUID | None = None
    if data.email:
        existing = await contacts.find_by_email(data.email)
        if existing is not None:
            if not allow_duplicate:
                raise Conflict(f"A contact with the email {data.email!r} already exists ({existing.full_name!r}). "
                               "Send allow_duplicate=true to create it anyway; it is then flagged.",
                               type_slug="duplicate-contact", duplicate_of=str(existing.id))
            duplicate_of = existing.id
    contact = Contact(id=uuid.uuid4(), version=1, duplicate_of=duplicate_of, **data.model_dump())
    contact.created_at = contact.updated_at = utcnow()
    contacts.add(contact)
    contact.record(ContactCreatedV1(contact_id=contact.id, **_contact_state(contact)))
    return contact


async def create_contact(uow: UnitOfWork, data: ContactIn, *, allow_duplicate: bool = False) -> Contact:
    contact = await add_contact(uow, data, allow_duplicate=allow_duplicate)
    await uow.commit()
    return contact


async def update_contact(uow: UnitOfWork, contact_id: uuid.UUID, changes: dict[str, object]) -> Contact:
    contact = await change_contact(uow, contact_id, changes)
    await uow.commit()
    return contact


async def change_contact(uow: UnitOfWork, contact_id: uuid.UUID, changes: dict[str, object]) -> Contact:
    """Stage a change of a contact with its contact.updated event (no commit): for update and import."""
    contacts = ContactRepository(uow.session)
    contact = await contacts.get(contact_id, for_update=True)
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    if "first_name" in changes and changes["first_name"] is None:
        raise Unprocessable("first_name: a contact needs a first name.")
    if changes.get("last_name", "") is None:
        changes["last_name"] = ""
    company_id = changes.get("company_id")
    if isinstance(company_id, uuid.UUID) and await CompanyRepository(uow.session).get(company_id) is None:
        raise Unprocessable(f"company_id: company {company_id} does not exist.")
    email = changes.get("email")
    if isinstance(email, str) and email.lower() != (contact.email or "").lower():
        existing = await contacts.find_by_email(email)
        if existing is not None and existing.id != contact.id:
            raise Conflict(f"A contact with the email {email!r} already exists ({existing.full_name!r}).",
                           type_slug="duplicate-contact", duplicate_of=str(existing.id))
    if not any(getattr(contact, field) != value for field, value in changes.items()):
        return contact
    for field, value in changes.items():
        setattr(contact, field, value)
    contact.version += 1
    contact.updated_at = utcnow()
    contact.record(ContactUpdatedV1(contact_id=contact.id, **_contact_state(contact)))
    return contact


async def delete_contact(uow: UnitOfWork, contact_id: uuid.UUID) -> None:
    contact = await ContactRepository(uow.session).get(contact_id, for_update=True)
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    contact.deleted_at = contact.updated_at = utcnow()
    contact.version += 1
    contact.record(ContactUpdatedV1(contact_id=contact.id, deleted=True, **_contact_state(contact)))
    await uow.commit()


async def get_contact(uow: UnitOfWork, contact_id: uuid.UUID) -> Contact:
    contact = await ContactRepository(uow.session).get(contact_id)
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    return contact


def _contact_state(contact: Contact) -> dict[str, object]:
    return {"company_id": contact.company_id, "first_name": contact.first_name, "last_name": contact.last_name,
            "email": contact.email, "phone": contact.phone, "version": contact.version,
            "changed_at": contact.updated_at}
