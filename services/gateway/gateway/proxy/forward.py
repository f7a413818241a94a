"""Forwarding /api/crm/* and /api/erp/* to their service: ids, trace context and a signed token passed on.

Request bodies are read (up to the size limit) before forwarding, so that an idempotent request can be retried
and an `Idempotency-Key` request hashed; response bodies are streamed back as they arrive, except for
`Idempotency-Key` requests whose response is stored.
"""

import re
import secrets

import httpx
from fastapi import Request, Response
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from gateway.proxy.idempotency import IdempotencyStore, StoredResponse, check_key, request_hash, should_store
from gateway.proxy.upstreams import Upstream
from gateway.security import rate_limit_key
from throughline_messaging.auth import Principal
from throughline_messaging.context import correlation_id_var, request_id_var
from throughline_messaging.problems import ProblemError

# Hop-by-hop headers (RFC 9110 §7.6.1), ones the gateway sets itself, and the caller's credentials (replaced by
# the signed access token of the principal).
_DROP_REQUEST = frozenset({
    "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
    "content-length", "x-request-id", "x-correlation-id", "authorization", "x-api-key", "traceparent", "cookie",
})
_DROP_RESPONSE = frozenset({"connection", "keep-alive", "transfer-encoding", "x-request-id", "server", "date"})
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


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


def upstream_headers(request: Request, principal: Principal | None) -> list[tuple[str, str]]:
    """The headers sent upstream; without a principal (public lead capture) the caller's X-API-Key goes on."""
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST]
    request_id = request_id_var.get() or ""
    if principal is not None:
        headers.append(("authorization", f"Bearer {principal.token}"))
    elif request.headers.get("x-api-key"):
        headers.append(("x-api-key", request.headers["x-api-key"]))
    headers += [
        ("x-request-id", request_id),
        ("x-correlation-id", correlation_id_var.get() or request_id),
        ("traceparent", child_traceparent(request.headers.get("traceparent"))),
    ]
    return headers


def _target(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def _response_headers(response: httpx.Response, *, streamed: bool) -> dict[str, str]:
    drop = _DROP_RESPONSE if streamed else _DROP_RESPONSE | {"content-length", "content-encoding"}
    return {k: v for k, v in response.headers.items() if k.lower() not in drop}


async def forward(request: Request, upstream: Upstream, principal: Principal | None, max_body: int,
                  idempotency: IdempotencyStore) -> Response:
    body = await read_body(request, max_body)
    headers = upstream_headers(request, principal)
    target = _target(request)
    raw_key = request.headers.get("idempotency-key")
    if request.method == "POST" and raw_key is not None and principal is not None:
        return await _forward_once(request.method, target, body, headers, upstream, idempotency,
                                   rate_limit_key(principal), check_key(raw_key))
    response = await upstream.send(request.method, target, headers=headers, content=body, stream=True)
    return StreamingResponse(response.aiter_raw(), status_code=response.status_code,
                             headers=_response_headers(response, streamed=True),
                             background=BackgroundTask(response.aclose))


async def _forward_once(method: str, target: str, body: bytes, headers: list[tuple[str, str]], upstream: Upstream,
                        store: IdempotencyStore, principal_key: str, key: str) -> Response:
    stored = await store.begin(principal_key, key, request_hash(method, target, body))
    if stored is not None:
        return Response(stored.body, status_code=stored.status, media_type=stored.content_type,
                        headers={"idempotent-replayed": "true"})
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
    return Response(response.content, status_code=response.status_code,
                    headers=_response_headers(response, streamed=False))
