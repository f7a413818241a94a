from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.deps import db_session
from gateway.notifications import service
from gateway.notifications.schemas import MarkRead, Notifications
from gateway.openapi_support import problem_responses
from gateway.policy import NotificationReader
from gateway.proxy.forward import upstream_headers
from throughline_platform.auth import Principal

router = APIRouter(prefix="/api/notifications", tags=["notifications"])
Session = Annotated[AsyncSession, Depends(db_session)]


def _headers(request: Request, principal: Principal) -> list[tuple[str, str]]:
    return [(k, v) for k, v in upstream_headers(request, principal)
            if k in ("authorization", "x-request-id", "x-correlation-id", "traceparent")]


@router.get("", response_model=Notifications, responses=problem_responses(401, 429),
            summary="What needs the caller (the bell): leads assigned, tasks due, expenses to approve, overdue "
                    "invoices of their clients; partial, naming the service, when one is down")
async def notifications(principal: NotificationReader, request: Request, session: Session) -> Notifications:
    return await service.collect(request.app.state.upstreams, _headers(request, principal), session,
                                 principal.user_id)


@router.post("/read", response_model=Notifications, responses=problem_responses(401, 422, 429),
             summary="Mark notifications read (by key); answers the list as it is now")
async def mark_read(body: MarkRead, principal: NotificationReader, request: Request,
                    session: Session) -> Notifications:
    await service.mark_read(session, principal.user_id, body.keys)
    return await service.collect(request.app.state.upstreams, _headers(request, principal), session,
                                 principal.user_id)


@router.post("/read-all", response_model=Notifications, responses=problem_responses(401, 429),
             summary="Mark every notification the caller has now read")
async def mark_all_read(principal: NotificationReader, request: Request, session: Session) -> Notifications:
    headers = _headers(request, principal)
    current = await service.collect(request.app.state.upstreams, headers, session, principal.user_id)
    unread = [n.key for n in current.items if not n.read]
    if not unread:
        return current
    await service.mark_read(session, principal.user_id, unread)
    return await service.collect(request.app.state.upstreams, headers, session, principal.user_id)
