"""The proxied paths: /api/crm/* and /api/erp/*, and the CRM's public lead capture, inbound mail and unsubscribe.

These are plain ASGI endpoints on Starlette routes rather than FastAPI path operations: every API call goes
through them, and FastAPI's dependency solving and `StreamingResponse` (a task group per answer) were a large
part of the gateway's CPU per request. Authentication and rate limits are the same `current_caller` the
gateway's own endpoints use; errors are raised as problems for the app's handlers like anywhere else.
"""

from typing import Any

from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from gateway.proxy.forward import forward
from gateway.security import current_caller
from throughline_platform.auth import Principal
from throughline_platform.problems import Unauthorized

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


class ProxyEndpoint:
    """Forwards the request to one upstream after checking the caller. With `unknown_keys_pass`, a request with
    an `X-API-Key` the gateway does not know goes on without a token (the CRM's own lead-capture keys). A `public`
    endpoint checks no caller at all: the service checks its own credential (the inbound-mail secret, in a header or
    as basic auth, which is passed on; a signed unsubscribe link)."""

    def __init__(self, upstream: str, *, unknown_keys_pass: bool = False, public: bool = False) -> None:
        self.upstream = upstream
        self.unknown_keys_pass = unknown_keys_pass
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        principal: Principal | None
        if self.public:
            principal = None
        else:
            try:
                principal = await current_caller(request)
            except Unauthorized:
                if not (self.unknown_keys_pass and request.headers.get("x-api-key")):
                    raise
                principal = None
        state = request.app.state
        await forward(request, send, state.upstreams[self.upstream], principal, state.settings.max_body_bytes,
                      state.idempotency, pass_basic_auth=self.public)


class ProxyRoute(Route):
    """A route whose match is recorded in `scope["route"]`, as FastAPI's own routes do, so that request metrics
    are labelled with the route's path (`/api/crm/{path:path}`), not one label per URL."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def proxy_routes() -> list[Any]:
    return [
        # Website forms: a gateway API key (role sales) or, when the gateway does not know the key, the CRM's
        # own capture keys, which the CRM checks and rate-limits itself.
        ProxyRoute("/api/crm/lead-capture", ProxyEndpoint("crm", unknown_keys_pass=True), methods=["POST"],
                   include_in_schema=False),
        # Inbound-parse services post mail here with the CRM's inbound secret (X-Inbound-Secret or basic auth);
        # a mail's one-click unsubscribe link is opened (GET: a confirm page) and posted (RFC 8058) by anyone holding
        # it. The CRM checks the secret and the link's signature itself.
        ProxyRoute("/api/crm/inbound-mail", ProxyEndpoint("crm", public=True), methods=["POST"],
                   include_in_schema=False),
        ProxyRoute("/api/crm/unsubscribe/{token}", ProxyEndpoint("crm", public=True), methods=["GET", "POST"],
                   include_in_schema=False),
        ProxyRoute("/api/crm/{path:path}", ProxyEndpoint("crm"), methods=METHODS, include_in_schema=False),
        ProxyRoute("/api/erp/{path:path}", ProxyEndpoint("erp"), methods=METHODS, include_in_schema=False),
    ]
