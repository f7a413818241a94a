import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.companies.models import Company, Contact


class CompanyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, company: Company) -> None:
        self.session.add(company)

    async def get(self, company_id: uuid.UUID) -> Company | None:
        company = await self.session.get(Company, company_id)
        return company if company is not None and company.deleted_at is None else None

    async def find_by_domain(self, domain: str) -> Company | None:
        return (await self.session.execute(
            select(Company).where(func.lower(Company.domain) == domain.lower(), Company.deleted_at.is_(None))
        )).scalars().first()

    async def search(self, q: str | None, limit: int, offset: int) -> tuple[list[Company], int]:
        query = select(Company).where(Company.deleted_at.is_(None))
        if q:
            pattern = f"%{_escape_like(q)}%"
            query = query.where(or_(Company.name.ilike(pattern), Company.domain.ilike(pattern),
                                    Company.email.ilike(pattern)))
        total = (await self.session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (await self.session.execute(query.order_by(Company.name, Company.id).limit(limit).offset(offset)))
        return list(rows.scalars()), total


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, contact: Contact) -> None:
        self.session.add(contact)

    async def get(self, contact_id: uuid.UUID) -> Contact | None:
        contact = await self.session.get(Contact, contact_id)
        return contact if contact is not None and contact.deleted_at is None else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
