import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from erp.reminders.models import Reminder
from erp.reminders.service import deliver, run_reminders
from throughline_messaging.deps import ReadUoW, UoW
from throughline_messaging.runtime import ServiceRuntime
from throughline_platform.auth import require_roles
from throughline_platform.deps import CurrentPrincipal
from throughline_platform.paging import page_with_total

router = APIRouter(prefix="/api/erp", tags=["reminders"])


class ReminderRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date
    client_id: uuid.UUID | None = Field(None, description="Only this client's invoices")
    invoice_id: uuid.UUID | None = Field(None, description="Only this invoice")


class ReminderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    invoice_id: uuid.UUID
    step: int
    days_after_due: int
    days_overdue: int
    as_of: date
    recipient: str | None
    channel: str
    subject: str
    body: str
    balance_due: Decimal
    late_fee: Decimal
    delivery_status: str
    delivery_error: str | None
    sent_at: datetime | None
    created_at: datetime


class ReminderRunOut(BaseModel):
    as_of: date
    reminders: list[ReminderOut]


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    total: int
    limit: int
    offset: int


@router.post("/reminder-runs", response_model=ReminderRunOut,
             summary="Send every reminder step due by as_of and not yet sent (each once per invoice)")
async def create_reminder_run(body: ReminderRunIn, uow: UoW, principal: CurrentPrincipal,
                              request: Request) -> ReminderRunOut:
    require_roles(principal, "finance")
    reminders = await run_reminders(uow, as_of=body.as_of, client_id=body.client_id, invoice_id=body.invoice_id)
    ids = [r.id for r in reminders]
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.uow() as delivery:
        await deliver(delivery, ids)
        sent = list((await delivery.session.execute(
            select(Reminder).where(Reminder.id.in_(ids)).order_by(Reminder.invoice_id, Reminder.step))).scalars())
        return ReminderRunOut(as_of=body.as_of, reminders=[ReminderOut.model_validate(r) for r in sent])


@router.get("/reminders", response_model=ReminderPage, summary="Every reminder sent: what, when, to whom")
async def list_reminders(uow: ReadUoW, principal: CurrentPrincipal, invoice_id: uuid.UUID | None = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50,
                         offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ReminderPage:
    query = select(Reminder)
    if invoice_id:
        query = query.where(Reminder.invoice_id == invoice_id)
    rows, total = await page_with_total(uow.session, query, Reminder.created_at.desc(), Reminder.step.desc(),
                                        Reminder.id, limit=limit, offset=offset)
    return ReminderPage(items=[ReminderOut.model_validate(r) for r in rows], total=total, limit=limit,
                        offset=offset)
