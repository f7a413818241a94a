import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from erp.clients.repository import ClientRepository
from erp.clients.schemas import ClientBillingIn, ClientOut, ClientPage, ContactOut
from throughline_events.money import is_currency
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.auth import require_roles
from throughline_platform.deps import CurrentPrincipal
from throughline_platform.problems import NotFound, Unprocessable

router = APIRouter(prefix="/api/erp/clients", tags=["clients"])


@router.get("", response_model=ClientPage, summary="Clients (replicated from CRM companies)")
async def list_clients(uow: ReadUoW, principal: CurrentPrincipal,
                       q: Annotated[str | None, Query(max_length=200)] = None,
                       crm_company_id: Annotated[uuid.UUID | None, Query(description="the CRM company")] = None,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50,
                       offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ClientPage:
    items, total = await ClientRepository(uow.session).search(q, limit, offset, crm_company_id)
    return ClientPage(items=[ClientOut.model_validate(c) for c in items], total=total, limit=limit, offset=offset)


@router.get("/{client_id}", response_model=ClientOut, summary="One client")
async def get_client(client_id: uuid.UUID, uow: ReadUoW, principal: CurrentPrincipal) -> ClientOut:
    client = await ClientRepository(uow.session).get(client_id)
    if client is None:
        raise NotFound(f"Client {client_id} does not exist.")
    return ClientOut.model_validate(client)


@router.get("/{client_id}/contacts", response_model=list[ContactOut],
            summary="The client's contacts (replicated from CRM contacts)")
async def get_client_contacts(client_id: uuid.UUID, uow: ReadUoW, principal: CurrentPrincipal,
                              include_deleted: bool = False) -> list[ContactOut]:
    clients = ClientRepository(uow.session)
    client = await clients.get(client_id)
    if client is None:
        raise NotFound(f"Client {client_id} does not exist.")
    if client.crm_company_id is None:
        return []
    return [ContactOut.model_validate(c) for c in await clients.contacts_of(client.crm_company_id, include_deleted)]


@router.patch("/{client_id}", response_model=ClientOut, summary="Set a client's ERP-only billing fields")
async def update_client_billing(client_id: uuid.UUID, body: ClientBillingIn, uow: UoW,
                                principal: CurrentPrincipal) -> ClientOut:
    require_roles(principal, "finance")
    client = await ClientRepository(uow.session).get(client_id)
    if client is None:
        raise NotFound(f"Client {client_id} does not exist.")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("currency") and not is_currency(changes["currency"]):
        raise Unprocessable(f"{changes['currency']!r} is not an ISO 4217 currency code.")
    for field, value in changes.items():
        setattr(client, field, value)
    await uow.commit()
    return ClientOut.model_validate(client)
