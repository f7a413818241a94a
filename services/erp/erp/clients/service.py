"""Clients: a replica of the CRM's companies (kept by `replica`), plus the billing fields only the ERP keeps."""

import uuid

from erp.clients.models import Client, ClientContact
from erp.clients.repository import ClientRepository
from erp.clients.schemas import ClientBillingIn
from throughline_events import money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import NotFound, Unprocessable


async def get_client(uow: UnitOfWork, client_id: uuid.UUID) -> Client:
    client = await ClientRepository(uow.session).get(client_id)
    if client is None:
        raise NotFound(f"Client {client_id} does not exist.")
    return client


async def contacts_of(uow: UnitOfWork, client_id: uuid.UUID, include_deleted: bool) -> list[ClientContact]:
    client = await get_client(uow, client_id)
    if client.crm_company_id is None:
        return []  # a client entered in the ERP alone has no CRM contacts
    return await ClientRepository(uow.session).contacts_of(client.crm_company_id, include_deleted)


async def update_billing(uow: UnitOfWork, client_id: uuid.UUID, body: ClientBillingIn) -> Client:
    client = await get_client(uow, client_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("currency"):
        try:
            money.check_currency(changes["currency"])
        except ValueError as exc:
            raise Unprocessable(f"{exc}.") from None
    for field, value in changes.items():
        setattr(client, field, value)
    await uow.commit()
    return client
