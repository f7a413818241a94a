"""Defence in depth at every process's HTTP edge: security headers on every response, a request body size limit,
and /metrics for operators only. Pure ASGI middleware (no task per request, nothing buffered).

The gateway is the only door in a deployment; the services carry the same headers and limits anyway, so that a
service reached directly (a misrouted ingress, a port left open, a compromised neighbour) is no softer, and so that
the documents a service renders itself (the ERP's invoice page) carry the headers wherever they are fetched from.
"""

import base64
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from throughline_platform.problems import PayloadTooLarge, problem_response

# For the services, whose only documents are JSON and the pages they render (an invoice: one inline stylesheet, no
# script, no image from elsewhere). Nothing may run, nothing may be fetched, nobody may frame them.
SERVICE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'")
# Referrer-Policy `no-referrer`: nothing in the system reads the Referer header, so sending it (even to ourselves)
# only risks leaking a URL with an id in it to whatever a document links to.
BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers that predate CSP level 2
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeadersMiddleware:
    """Adds `Content-Security-Policy`, `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and
    `Referrer-Policy: no-referrer` to every HTTP response that does not set them itself (a proxied answer keeps its
    service's own policy). `csp_by_path` gives some paths their own policy (Swagger UI's page needs its scripts)."""

    def __init__(self, app: ASGIApp, csp: str = SERVICE_CSP, csp_by_path: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = (*BASE_HEADERS, (b"content-security-policy", csp.encode()))
        self.by_path = {path: (*BASE_HEADERS, (b"content-security-policy", policy.encode()))
                        for path, policy in (csp_by_path or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.by_path.get(scope["path"], self.headers)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in extra if header[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-...') for the inline scripts of a page we serve but did not write."""
    hashes = []
    for script in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.DOTALL | re.IGNORECASE):
        digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return hashes


def swagger_ui_csp(html: str, cdn: str = "https://cdn.jsdelivr.net") -> str:
    """The policy for FastAPI's Swagger UI page: its script and stylesheet from the CDN it names, its one inline
    script by hash (no 'unsafe-inline' for scripts), the API documents from this origin."""
    scripts = " ".join([cdn, *inline_script_hashes(html)])
    return (f"default-src 'none'; script-src {scripts}; style-src {cdn} 'unsafe-inline'; img-src 'self' data: https:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def is_upload(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """A file upload: a multipart/form-data body, or a CSV file sent as the body (`text/csv`, the CRM's import), which
    gets the larger upload limit (and, at the gateway, the longer upstream timeout: a 10,000-row import takes the
    CRM longer than the 10 s any other call gets)."""
    return any(name == b"content-type" and value.lower().startswith((b"multipart/form-data", b"text/csv"))
               for name, value in headers)


class BodyLimitMiddleware:
    """Refuses request bodies over `max_bytes` (`max_upload_bytes` for a multipart/form-data upload) with a 413
    problem. A declared `Content-Length` over the limit is refused before the app runs; otherwise the bytes are
    counted as the app reads them (chunked uploads have no Content-Length, and a declared one may lie), and the read
    that crosses the limit raises `PayloadTooLarge`, which the problem handlers answer. Nothing is buffered here: a
    streaming reader still streams."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max(max_upload_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        limit = self.max_upload_bytes if is_upload(scope["headers"]) else self.max_bytes
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    await _too_large(limit)(scope, receive, send)
                    return
                break
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


def _too_large(limit: int) -> Response:
    return problem_response(413, "Payload too large", f"The request body is larger than {limit} bytes.",
                            "payload-too-large", headers={"Connection": "close"})


_LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address in _LOOPBACK_V4 or address == ipaddress.IPv6Address("::1")


def metrics_allowed(request: Request, token: str) -> bool:
    """May this request read /metrics? With a `METRICS_TOKEN` configured, only with `Authorization: Bearer <it>`;
    without one, only from this machine (a development stack, where every process listens on 127.0.0.1). The
    address is the one uvicorn settled on: behind a proxy it trusts (`FORWARDED_ALLOW_IPS`, by default 127.0.0.1, ::1),
    the client that proxy names in X-Forwarded-For, so a local reverse proxy does not make the world local."""
    if token:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())
    return _is_loopback(request.client.host if request.client else None)


def metrics_refused(token: str) -> Response:
    if token:
        return problem_response(401, "Not authenticated", "/metrics needs the deployment's METRICS_TOKEN as a bearer "
                                "token.", "unauthorized", headers={"WWW-Authenticate": "Bearer"})
    return problem_response(403, "Forbidden", "/metrics is served only to this machine unless METRICS_TOKEN is set.",
                            "forbidden")
