from fastapi import APIRouter, Request, Response

from gateway.proxy.forward import forward
from gateway.security import Caller, current_caller
from throughline_messaging.auth import Principal
from throughline_messaging.problems import Unauthorized

router = APIRouter(tags=["proxy"])

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


async def _to(name: str, request: Request, principal: Principal | None) -> Response:
    state = request.app.state
    return await forward(request, state.upstreams[name], principal, state.settings.max_body_bytes, state.idempotency)


@router.post("/api/crm/lead-capture", include_in_schema=False)
async def to_lead_capture(request: Request) -> Response:
    """Website forms: a gateway API key (role sales) or, when the gateway does not know the key, the CRM's own
    capture keys, which the CRM checks and rate-limits itself."""
    try:
        principal: Principal | None = await current_caller(request)
    except Unauthorized:
        if not request.headers.get("x-api-key"):
            raise
        principal = None
    return await _to("crm", request, principal)


@router.api_route("/api/crm/{path:path}", methods=_METHODS, include_in_schema=False)
async def to_crm(path: str, request: Request, principal: Caller) -> Response:
    return await _to("crm", request, principal)


@router.api_route("/api/erp/{path:path}", methods=_METHODS, include_in_schema=False)
async def to_erp(path: str, request: Request, principal: Caller) -> Response:
    return await _to("erp", request, principal)
