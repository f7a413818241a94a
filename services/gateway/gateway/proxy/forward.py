"""Forwarding /api/crm/* and /api/erp/* to their service: ids, trace context and a signed token passed on.

Request bodies are read (up to the size limit) before forwarding, so that an idempotent request can be retried
and an `Idempotency-Key` request hashed. Answers are written straight to the ASGI `send`: a small one with a
`Content-Length` (nearly every API answer) as one message once it is all in, anything else streamed as it
arrives; `Idempotency-Key` requests read the whole answer, which is stored.
"""

import asyncio
import contextlib
import re
import secrets
from collections.abc import Awaitable

import aiohttp
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Send

from gateway.proxy.idempotency import IdempotencyStore, StoredResponse, check_key, request_hash, should_store
from gateway.proxy.upstreams import Upstream, UpstreamResponse
from gateway.security import rate_limit_key
from gateway.settings import GatewaySettings
from throughline_platform.auth import Principal
from throughline_platform.context import correlation_id_var, request_id_var
from throughline_platform.hardening import is_upload
from throughline_platform.problems import ProblemError

# Hop-by-hop headers (RFC 9110 §7.6.1), ones the gateway sets itself, and the caller's credentials (replaced by
# the signed access token of the principal).
_DROP_REQUEST = frozenset({
    "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
    "content-length", "x-request-id", "x-correlation-id", "authorization", "x-api-key", "traceparent", "cookie",
    "x-forwarded-for",
})
_DROP_RESPONSE = frozenset({"connection", "keep-alive", "transfer-encoding", "x-request-id", "server", "date"})
_DROP_RESPONSE_RAW = frozenset(name.encode() for name in _DROP_RESPONSE)
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
# Answers up to this size with a Content-Length are read whole and sent as one message (one write, and a
# broken answer can still become a 502 problem); bigger or open-ended ones are streamed.
WHOLE_ANSWER_BYTES = 64 * 1024


class PayloadTooLarge(ProblemError):
    status, type_slug, title = 413, "payload-too-large", "Payload too large"


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    return bytes(body)


def child_traceparent(incoming: str | None) -> str:
    """W3C trace context: keep the caller's trace id (or start a trace), with the gateway's own span id."""
    match = _TRACEPARENT.match((incoming or "").strip().lower())
    if match and match.group(1) != "ff" and set(match.group(2)) != {"0"} and set(match.group(3)) != {"0"}:
        return f"00-{match.group(2)}-{secrets.token_hex(8)}-{match.group(4)}"
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def upstream_headers(request: Request, principal: Principal | None,
                     pass_basic_auth: bool = False) -> list[tuple[str, str]]:
    """The headers sent upstream; without a principal (public lead capture) the caller's X-API-Key goes on, and on a
    public route (inbound mail) its basic auth, which is the service's own secret, never a gateway credential."""
    headers = [(k, v) for k, v in request.headers.items() if k not in _DROP_REQUEST]  # names come lower-cased
    request_id = request_id_var.get() or ""
    if principal is not None:
        headers.append(("authorization", f"Bearer {principal.token}"))
    elif request.headers.get("x-api-key"):
        headers.append(("x-api-key", request.headers["x-api-key"]))
    authorization = request.headers.get("authorization", "")
    if principal is None and pass_basic_auth and authorization[:6].lower() == "basic ":
        headers.append(("authorization", authorization))
    # The caller's address as the gateway saw it (a caller cannot name another one): a service records it (a quote's
    # acceptance) from here, trusting the gateway as its proxy (FORWARDED_ALLOW_IPS).
    if request.client is not None:
        headers.append(("x-forwarded-for", request.client.host))
    headers += [
        ("x-request-id", request_id),
        ("x-correlation-id", correlation_id_var.get() or request_id),
        ("traceparent", child_traceparent(request.headers.get("traceparent"))),
    ]
    return headers


def _target(request: Request) -> str:
    """The path and query exactly as the caller sent them (the service decodes them itself)."""
    scope = request.scope
    raw_path: bytes | None = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.url.path
    query: bytes = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def _raw_response_headers(response: aiohttp.ClientResponse) -> list[tuple[bytes, bytes]]:
    return [(name.lower(), value) for name, value in response.raw_headers if name.lower() not in _DROP_RESPONSE_RAW]


async def forward(request: Request, send: Send, upstream: Upstream, principal: Principal | None,
                  settings: GatewaySettings, idempotency: IdempotencyStore, *, pass_basic_auth: bool = False) -> None:
    """A file upload (multipart/form-data) may be larger and take the service longer than any other request."""
    upload = is_upload(request.scope["headers"])
    body = await read_body(request, settings.max_upload_bytes if upload else settings.max_body_bytes)
    read_timeout = settings.upload_timeout_seconds if upload else None
    headers = upstream_headers(request, principal, pass_basic_auth)
    target = _target(request)
    method = request.method
    raw_key = request.headers.get("idempotency-key")
    if method == "POST" and raw_key is not None and principal is not None:
        answer = await _forward_once(method, target, body, headers, upstream, idempotency,
                                     rate_limit_key(principal), check_key(raw_key))
        await answer(request.scope, request.receive, send)
        return
    response = await upstream.open(method, target, headers=headers, content=body, read_timeout=read_timeout)
    try:
        await _relay(upstream, response, request.receive, send)
    finally:
        response.release()


async def _relay(upstream: Upstream, response: aiohttp.ClientResponse, receive: Receive, send: Send) -> None:
    start: Message = {"type": "http.response.start", "status": response.status,
                      "headers": _raw_response_headers(response)}
    length = response.content_length
    if (length is not None and length <= WHOLE_ANSWER_BYTES) or response.status in (204, 304):
        with upstream.reading_answer():  # nothing sent yet: a broken answer becomes the 502/504 problem
            content = await response.read()
        await send(start)
        await send({"type": "http.response.body", "body": content, "more_body": False})
        return
    await send(start)
    await _until_disconnect(_stream(upstream, response, send), receive)


async def _stream(upstream: Upstream, response: aiohttp.ClientResponse, send: Send) -> None:
    chunks = response.content.iter_any()
    while True:
        # Only reading counts against the upstream (not the caller's side of `send`). A failure raises after the
        # status line is out: the connection is dropped (no closing chunk), so the caller sees a broken answer
        # rather than a short one that looks complete.
        with upstream.reading_answer():
            chunk = await anext(chunks, None)
        if chunk is None:
            break
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _until_disconnect(copy: Awaitable[None], receive: Receive) -> None:
    """Run `copy` until it ends or the caller goes away (then stop reading from the service: a stream may
    never end on its own)."""
    copying = asyncio.ensure_future(copy)
    watching = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait((copying, watching), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (copying, watching):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    if copying.done() and not copying.cancelled():
        copying.result()  # its error, if any


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _response_headers(response: UpstreamResponse) -> dict[str, str]:
    drop = _DROP_RESPONSE | {"content-length"}
    return {k: v for k, v in response.headers.items() if k.lower() not in drop}


async def _forward_once(method: str, target: str, body: bytes, headers: list[tuple[str, str]], upstream: Upstream,
                        store: IdempotencyStore, principal_key: str, key: str) -> Response:
    stored = await store.begin(principal_key, key, request_hash(method, target, body))
    if stored is not None:
        return Response(stored.body, status_code=stored.status, media_type=stored.content_type,
                        headers={"idempotent-replayed": "true"})
    # Asked for uncompressed: the stored answer is replayed with its content type only.
    headers = [(k, v) for k, v in headers if k != "accept-encoding"]
    try:
        response = await upstream.send(method, target, headers=headers, content=body)
    except BaseException:
        await store.release(principal_key, key)
        raise
    if should_store(response.status_code):
        await store.complete(principal_key, key, StoredResponse(response.status_code,
                                                                response.headers.get("content-type"),
                                                                response.content))
    else:
        await store.release(principal_key, key)
    return Response(response.content, status_code=response.status_code, headers=_response_headers(response))
