import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from erp.clients import service
from erp.clients.repository import ClientRepository
from erp.clients.schemas import ClientBillingIn, ClientOut, ClientPage, ContactOut, ReminderPauseIn
from erp.policy import ClientBillingWriter, Reader
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp/clients", tags=["clients"])


@router.get("", response_model=ClientPage, summary="Clients (replicated from CRM companies)")
async def list_clients(uow: ReadUoW, principal: Reader,
                       q: Annotated[str | None, Query(max_length=200)] = None,
                       crm_company_id: Annotated[uuid.UUID | None, Query(description="the CRM company")] = None,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50,
                       offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ClientPage:
    items, total = await ClientRepository(uow.session).search(q, limit, offset, crm_company_id)
    return ClientPage(items=[ClientOut.model_validate(c) for c in items], total=total, limit=limit, offset=offset)


@router.get("/{client_id}", response_model=ClientOut, summary="One client")
async def get_client(client_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> ClientOut:
    return ClientOut.model_validate(await service.get_client(uow, client_id))


@router.get("/{client_id}/contacts", response_model=list[ContactOut],
            summary="The client's contacts (replicated from CRM contacts)")
async def get_client_contacts(client_id: uuid.UUID, uow: ReadUoW, principal: Reader,
                              include_deleted: bool = False) -> list[ContactOut]:
    return [ContactOut.model_validate(c) for c in await service.contacts_of(uow, client_id, include_deleted)]


@router.patch("/{client_id}", response_model=ClientOut, summary="Set a client's ERP-only billing fields")
async def update_client_billing(client_id: uuid.UUID, body: ClientBillingIn, uow: UoW,
                                principal: ClientBillingWriter) -> ClientOut:
    return ClientOut.model_validate(await service.update_billing(uow, client_id, body))


@router.put("/{client_id}/reminder-pause", response_model=ClientOut,
            summary="Pause the client's reminders: a dispute, or a promise to pay until a date",
            responses=problem_responses(404, 422))
async def pause_reminders(client_id: uuid.UUID, body: ReminderPauseIn, uow: UoW,
                          principal: ClientBillingWriter) -> ClientOut:
    return ClientOut.model_validate(await service.pause_reminders(uow, client_id, body))


@router.delete("/{client_id}/reminder-pause", response_model=ClientOut, summary="Resume the client's reminders",
               responses=problem_responses(404))
async def resume_reminders(client_id: uuid.UUID, uow: UoW, principal: ClientBillingWriter) -> ClientOut:
    return ClientOut.model_validate(await service.pause_reminders(uow, client_id, None))
