"""The proxied paths: /api/crm/* and /api/erp/*, and the public ones: the CRM's lead capture, inbound mail and
unsubscribe, the ERP's client page of an invoice.

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
from gateway.ratelimit import RateLimited, TokenBuckets, address_key
from gateway.security import current_caller
from throughline_platform.auth import Principal
from throughline_platform.problems import Unauthorized

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
LEAD_CAPTURE_PATH = "/api/crm/lead-capture"


class ProxyEndpoint:
    """Forwards the request to one upstream after checking the caller. A `public` endpoint checks no caller: the
    service checks its own credential (the inbound-mail secret, in a header or as basic auth, which is passed on; a
    signed unsubscribe link), and the gateway limits anonymous requests per client address, as for lead capture."""

    def __init__(self, upstream: str, *, public: bool = False) -> None:
        self.upstream = upstream
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        principal: Principal | None
        if self.public:
            principal = None
            _limit_anonymous(request, "public")
        else:
            principal = await current_caller(request)
        state = request.app.state
        await forward(request, send, state.upstreams[self.upstream], principal, state.settings,
                      state.idempotency, pass_basic_auth=self.public)


class LeadCaptureEndpoint:
    """The CRM's public lead capture: a website's form posts here without a token (its capture key is a form field
    or an `X-API-Key` the CRM checks), and a page's script first asks the CORS preflight, which the CRM answers for
    its keys' allowed origins. A caller with credentials the gateway knows (a token, a gateway API key) is checked
    and rate-limited as anywhere else; one without is rate-limited per client address here, and per key by the
    CRM."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        state = request.app.state
        principal: Principal | None = None
        if request.method != "OPTIONS" and (request.headers.get("authorization") or request.headers.get("x-api-key")):
            try:
                principal = await current_caller(request)
            except Unauthorized:
                if not request.headers.get("x-api-key"):
                    raise  # a bad token is refused; an X-API-Key the gateway does not know may be a capture key
        if principal is None:
            _limit_anonymous(request, "capture")
        await forward(request, send, state.upstreams["crm"], principal, state.settings,
                      state.idempotency)


def _limit_anonymous(request: Request, kind: str) -> None:
    """Anonymous requests are limited per client address: website forms ("capture") by
    GATEWAY_LEAD_CAPTURE_PER_MINUTE_PER_ADDRESS, the other public routes (a client's page, an inbound-parse service,
    an unsubscribe link) by GATEWAY_PUBLIC_PER_MINUTE_PER_ADDRESS, each kind on its own bucket."""
    buckets: TokenBuckets = (request.app.state.capture_buckets if kind == "capture"
                             else request.app.state.public_buckets)
    if not buckets.enabled:
        return
    decision = buckets.take(f"{kind}:" + address_key(request.client.host if request.client else None))
    request.state.response_headers = decision.headers()
    if not decision.allowed:
        raise RateLimited(f"Requests without credentials from one address are limited to {decision.limit} a "
                          f"minute; retry in {decision.retry_after} s.")


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
        # Website forms: public (the CRM checks its capture keys and answers the CORS preflight itself).
        ProxyRoute(LEAD_CAPTURE_PATH, LeadCaptureEndpoint(), methods=["POST", "OPTIONS"], include_in_schema=False),
        # Inbound-parse services post mail here with the CRM's inbound secret (X-Inbound-Secret or basic auth);
        # a mail's one-click unsubscribe link is opened (GET: a confirm page) and posted (RFC 8058) by anyone holding
        # it. The CRM checks the secret and the link's signature itself.
        ProxyRoute("/api/crm/inbound-mail", ProxyEndpoint("crm", public=True), methods=["POST"],
                   include_in_schema=False),
        ProxyRoute("/api/crm/unsubscribe/{token}", ProxyEndpoint("crm", public=True), methods=["GET", "POST"],
                   include_in_schema=False),
        # A quote's page, its PDF and the client's answer: the signed, expiring link in the quote's mail is the
        # credential (the CRM checks it).
        ProxyRoute("/api/crm/public-quotes/{token}", ProxyEndpoint("crm", public=True), methods=["GET"],
                   include_in_schema=False),
        ProxyRoute("/api/crm/public-quotes/{token}/pdf", ProxyEndpoint("crm", public=True), methods=["GET"],
                   include_in_schema=False),
        ProxyRoute("/api/crm/public-quotes/{token}/{answer}", ProxyEndpoint("crm", public=True), methods=["POST"],
                   include_in_schema=False),
        # The client's page of a sent invoice and its PDF: opened from the mail by anyone holding the link; the ERP
        # checks the link's signature and expiry (403 forged or altered, 410 expired).
        ProxyRoute("/api/erp/public/invoices/{token}", ProxyEndpoint("erp", public=True), methods=["GET"],
                   include_in_schema=False),
        ProxyRoute("/api/erp/public/invoices/{token}/pdf", ProxyEndpoint("erp", public=True), methods=["GET"],
                   include_in_schema=False),
        ProxyRoute("/api/crm/{path:path}", ProxyEndpoint("crm"), methods=METHODS, include_in_schema=False),
        ProxyRoute("/api/erp/{path:path}", ProxyEndpoint("erp"), methods=METHODS, include_in_schema=False),
    ]
