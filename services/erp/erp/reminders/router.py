import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from erp.policy import Reader, ReminderRunner
from erp.reminders import service
from erp.reminders.repository import ReminderRepository
from erp.reminders.schemas import ReminderOut, ReminderPage, ReminderRunIn, ReminderRunOut
from throughline_messaging.deps import ReadUoW, UoW
from throughline_messaging.runtime import ServiceRuntime

router = APIRouter(prefix="/api/erp", tags=["reminders"])


@router.post("/reminder-runs", response_model=ReminderRunOut,
             summary="Send every reminder step due by as_of and not yet sent (each once per invoice)")
async def create_reminder_run(body: ReminderRunIn, uow: UoW, principal: ReminderRunner,
                              request: Request) -> ReminderRunOut:
    runtime: ServiceRuntime = request.app.state.runtime
    sent = await service.run_and_deliver(uow, runtime.uow, as_of=body.as_of, client_id=body.client_id,
                                         invoice_id=body.invoice_id)
    return ReminderRunOut(as_of=body.as_of, reminders=[ReminderOut.model_validate(r) for r in sent])


@router.get("/reminders", response_model=ReminderPage, summary="Every reminder sent: what, when, to whom")
async def list_reminders(uow: ReadUoW, principal: Reader, invoice_id: uuid.UUID | None = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50,
                         offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ReminderPage:
    rows, total = await ReminderRepository(uow.session).search(invoice_id, limit, offset)
    return ReminderPage(items=[ReminderOut.model_validate(r) for r in rows], total=total, limit=limit,
                        offset=offset)
