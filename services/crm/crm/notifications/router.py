from fastapi import APIRouter

from crm.notifications import service
from crm.notifications.schemas import NotificationList
from crm.policy import Reader
from throughline_messaging.deps import ReadUoW

router = APIRouter(prefix="/api/crm", tags=["notifications"])


@router.get("/notifications", response_model=NotificationList,
            summary="What needs the caller in the CRM: leads assigned to them, their tasks due (the bell)")
async def notifications(uow: ReadUoW, principal: Reader) -> NotificationList:
    return await service.for_user(uow, principal.user_id)
