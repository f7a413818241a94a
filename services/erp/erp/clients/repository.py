import uuid
from functools import cache

from sqlalchemy import Select, Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from erp.clients.models import Client, ClientContact
from throughline_platform.paging import page_with_total


class ClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, client_id: uuid.UUID) -> Client | None:
        return await self.session.get(Client, client_id)

    async def by_ids(self, client_ids: set[uuid.UUID]) -> dict[uuid.UUID, Client]:
        rows = await self.session.execute(select(Client).where(Client.id.in_(client_ids)))
        return {c.id: c for c in rows.scalars()}

    async def by_crm_company(self, company_id: uuid.UUID, *, for_update: bool = False) -> Client | None:
        query = select(Client).where(Client.crm_company_id == company_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalars().first()

    async def ids_by_crm_companies(self, company_ids: list[uuid.UUID], *, for_update: bool = False
                                   ) -> dict[uuid.UUID, uuid.UUID]:
        """Client id by CRM company id, for those of these companies that have a client (locked in company
        id order with `for_update`)."""
        rows = await self.session.execute(_ids_by_crm_companies(for_update), {"company_ids": company_ids})
        return {company_id: client_id for company_id, client_id in rows.all() if company_id is not None}

    async def contacts_of(self, company_id: uuid.UUID, include_deleted: bool) -> list[ClientContact]:
        query = select(ClientContact).where(ClientContact.crm_company_id == company_id)
        if not include_deleted:
            query = query.where(ClientContact.crm_deleted.is_(False))
        return list((await self.session.execute(query.order_by(ClientContact.name, ClientContact.id))).scalars())

    async def search(self, q: str | None, limit: int, offset: int,
                     crm_company_id: uuid.UUID | None = None) -> tuple[list[Client], int]:
        query = select(Client)
        if crm_company_id is not None:
            query = query.where(Client.crm_company_id == crm_company_id)
        if q:
            query = query.where(Client.name.ilike(f"%{_escape_like(q)}%"))
        return await page_with_total(self.session, query, Client.name, Client.id, limit=limit, offset=offset)


@cache
def _ids_by_crm_companies(for_update: bool) -> Select[uuid.UUID | None, uuid.UUID]:
    """`= ANY(one array)`, not an expanding IN: one SQL text (one prepared statement) whatever the number of
    companies; built once per lock mode. ORDER BY with FOR UPDATE locks the rows in that order, as the sort
    hands them up, so two consumers locking overlapping companies take the locks in the same order."""
    query = (select(Client.crm_company_id, Client.id)
             .where(Client.crm_company_id == any_(bindparam("company_ids", type_=ARRAY(Uuid()))))
             .order_by(Client.crm_company_id))
    return query.with_for_update() if for_update else query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
