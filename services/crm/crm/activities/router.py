import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from crm.activities import service
from crm.activities.repository import ActivityRepository
from crm.activities.schemas import ActivityIn, ActivityOut, ActivityPage, Kind
from crm.policy import ActivityWriter, Reader
from throughline_messaging.deps import ReadUoW, UoW

router = APIRouter(prefix="/api/crm/activities", tags=["activities"])


@router.post("", status_code=201, response_model=ActivityOut, summary="Log a call, email, meeting or note")
async def log_activity(body: ActivityIn, uow: UoW, principal: ActivityWriter) -> ActivityOut:
    return ActivityOut.model_validate(await service.log_activity(uow, body, created_by=principal.user_id))


@router.get("", response_model=ActivityPage, summary="Activities, newest first")
async def list_activities(uow: ReadUoW, principal: Reader, company_id: uuid.UUID | None = None,
                          contact_id: uuid.UUID | None = None, deal_id: uuid.UUID | None = None,
                          lead_id: uuid.UUID | None = None, kind: Kind | None = None,
                          limit: Annotated[int, Query(ge=1, le=200)] = 50,
                          offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ActivityPage:
    items, total = await ActivityRepository(uow.session).search(
        company_id=company_id, contact_id=contact_id, deal_id=deal_id, lead_id=lead_id, kind=kind, limit=limit,
        offset=offset)
    return ActivityPage(items=[ActivityOut.model_validate(a) for a in items], total=total, limit=limit, offset=offset)


@router.get("/{activity_id}", response_model=ActivityOut, summary="One activity")
async def get_activity(activity_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> ActivityOut:
    return ActivityOut.model_validate(await service.get_activity(uow, activity_id))


@router.delete("/{activity_id}", status_code=204, summary="Delete an activity")
async def delete_activity(activity_id: uuid.UUID, uow: UoW, principal: ActivityWriter) -> Response:
    await service.delete_activity(uow, activity_id)
    return Response(status_code=204)
