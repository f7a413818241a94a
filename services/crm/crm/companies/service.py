"""Company rules: no two live companies share a domain; every change bumps the version and is published."""

import uuid

from crm.companies.models import Company
from crm.companies.repository import CompanyRepository
from crm.companies.schemas import CompanyIn
from crm.db import utcnow
from throughline_events.crm import CompanyCreatedV1, CompanyUpdatedV1
from throughline_messaging.problems import Conflict, NotFound
from throughline_messaging.uow import UnitOfWork


async def create_company(uow: UnitOfWork, data: CompanyIn) -> Company:
    companies = CompanyRepository(uow.session)
    if data.domain:
        existing = await companies.find_by_domain(data.domain)
        if existing is not None:
            raise Conflict(f"A company with the domain {data.domain!r} already exists.",
                           type_slug="duplicate-company", duplicate_of=str(existing.id))
    company = Company(id=uuid.uuid4(), version=1, **data.model_dump())
    company.created_at = company.updated_at = utcnow()
    companies.add(company)
    company.record(CompanyCreatedV1(company_id=company.id, **_state(company)))
    await uow.commit()
    return company


async def update_company(uow: UnitOfWork, company_id: uuid.UUID, changes: dict[str, object]) -> Company:
    companies = CompanyRepository(uow.session)
    company = await companies.get(company_id)
    if company is None:
        raise NotFound(f"Company {company_id} does not exist.")
    domain = changes.get("domain")
    if isinstance(domain, str) and domain.lower() != (company.domain or "").lower():
        existing = await companies.find_by_domain(domain)
        if existing is not None and existing.id != company.id:
            raise Conflict(f"A company with the domain {domain!r} already exists.",
                           type_slug="duplicate-company", duplicate_of=str(existing.id))
    for field, value in changes.items():
        setattr(company, field, value)
    company.version += 1
    company.updated_at = utcnow()
    company.record(CompanyUpdatedV1(company_id=company.id, **_state(company)))
    await uow.commit()
    return company


async def get_company(uow: UnitOfWork, company_id: uuid.UUID) -> Company:
    company = await CompanyRepository(uow.session).get(company_id)
    if company is None:
        raise NotFound(f"Company {company_id} does not exist.")
    return company


def _state(company: Company) -> dict[str, object]:
    return {"name": company.name, "domain": company.domain, "email": company.email, "phone": company.phone,
            "address": company.address, "version": company.version, "changed_at": company.updated_at}
