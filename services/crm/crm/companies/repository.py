import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.companies.models import Company, Contact
from throughline_platform.paging import page_with_total


class CompanyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, company: Company) -> None:
        self.session.add(company)

    async def get(self, company_id: uuid.UUID, *, for_update: bool = False) -> Company | None:
        if for_update:
            company = (await self.session.execute(
                select(Company).where(Company.id == company_id).with_for_update())).scalars().first()
        else:
            company = await self.session.get(Company, company_id)
        return company if company is not None and company.deleted_at is None else None

    async def find_by_domain(self, domain: str) -> Company | None:
        return (await self.session.execute(
            select(Company).where(func.lower(Company.domain) == domain.lower(), Company.deleted_at.is_(None))
            .order_by(Company.created_at)
        )).scalars().first()

    async def find_by_email(self, email: str) -> Company | None:
        return (await self.session.execute(
            select(Company).where(func.lower(Company.email) == email.lower(), Company.deleted_at.is_(None))
            .order_by(Company.created_at)
        )).scalars().first()

    async def find_by_name(self, name: str) -> Company | None:
        """The oldest live company of that name (case-insensitive)."""
        return (await self.session.execute(
            select(Company).where(func.lower(Company.name) == name.strip().lower(), Company.deleted_at.is_(None))
            .order_by(Company.created_at, Company.id)
        )).scalars().first()

    async def search(self, q: str | None, limit: int, offset: int, *, duplicates_only: bool = False,
                     owner_id: str | None = None) -> tuple[list[Company], int]:
        query = select(Company).where(Company.deleted_at.is_(None))
        if q:
            pattern = f"%{_escape_like(q)}%"
            query = query.where(or_(Company.name.ilike(pattern), Company.domain.ilike(pattern),
                                    Company.email.ilike(pattern)))
        if duplicates_only:
            query = query.where(Company.duplicate_of.is_not(None))
        if owner_id:
            query = query.where(Company.owner_id == owner_id)
        return await page_with_total(self.session, query, Company.name, Company.id, limit=limit, offset=offset)


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, contact: Contact) -> None:
        self.session.add(contact)

    async def get(self, contact_id: uuid.UUID, *, for_update: bool = False) -> Contact | None:
        if for_update:
            contact = (await self.session.execute(
                select(Contact).where(Contact.id == contact_id).with_for_update())).scalars().first()
        else:
            contact = await self.session.get(Contact, contact_id)
        return contact if contact is not None and contact.deleted_at is None else None

    async def find_by_email(self, email: str) -> Contact | None:
        return (await self.session.execute(
            select(Contact).where(func.lower(Contact.email) == email.lower(), Contact.deleted_at.is_(None))
            .order_by(Contact.created_at)
        )).scalars().first()

    async def search(self, q: str | None, company_id: uuid.UUID | None, limit: int, offset: int, *,
                     duplicates_only: bool = False) -> tuple[list[Contact], int]:
        query = select(Contact).where(Contact.deleted_at.is_(None))
        if q:
            pattern = f"%{_escape_like(q)}%"
            full_name = func.concat(Contact.first_name, " ", Contact.last_name)
            query = query.where(or_(full_name.ilike(pattern), Contact.email.ilike(pattern),
                                    Contact.phone.ilike(pattern)))
        if company_id:
            query = query.where(Contact.company_id == company_id)
        if duplicates_only:
            query = query.where(Contact.duplicate_of.is_not(None))
        return await page_with_total(self.session, query, Contact.last_name, Contact.first_name, Contact.id,
                                     limit=limit, offset=offset)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
