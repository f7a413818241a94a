from fastapi import APIRouter

from erp.notifications import service
from erp.notifications.schemas import NotificationList
from erp.policy import Reader
from throughline_messaging.deps import ReadUoW

router = APIRouter(prefix="/api/erp", tags=["notifications"])


@router.get("/notifications", response_model=NotificationList,
            summary="What needs the caller in the ERP: expenses to approve, overdue invoices of their clients")
async def notifications(uow: ReadUoW, principal: Reader) -> NotificationList:
    return await service.for_user(uow, principal)
