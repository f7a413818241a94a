from fastapi import APIRouter, Request, Response

from gateway.deps import CurrentUser
from gateway.proxy.forward import forward

router = APIRouter(tags=["proxy"])

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/api/crm/{path:path}", methods=_METHODS, include_in_schema=False)
async def to_crm(path: str, request: Request, principal: CurrentUser) -> Response:
    return await forward(request, request.app.state.upstreams["crm"], request.app.state.settings.max_body_bytes)


@router.api_route("/api/erp/{path:path}", methods=_METHODS, include_in_schema=False)
async def to_erp(path: str, request: Request, principal: CurrentUser) -> Response:
    return await forward(request, request.app.state.upstreams["erp"], request.app.state.settings.max_body_bytes)
