"""Forwarding /api/crm/* and /api/erp/* to their service: ids and auth passed on, failures named."""

import httpx
from fastapi import Request, Response

from gateway.proxy.upstreams import Upstream
from throughline_messaging.context import correlation_id_var, request_id_var
from throughline_messaging.problems import ProblemError, problem_response

# Hop-by-hop headers (RFC 9110 §7.6.1) and ones the client must not set for us.
_DROP_REQUEST = {"host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
                 "upgrade", "content-length", "x-request-id", "x-correlation-id"}
_DROP_RESPONSE = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
                  "x-request-id", "server", "date"}


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


async def forward(request: Request, upstream: Upstream, max_body: int) -> Response:
    body = await read_body(request, max_body)
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST]
    headers.append(("x-request-id", request_id_var.get() or ""))
    headers.append(("x-correlation-id", correlation_id_var.get() or request_id_var.get() or ""))
    path = request.url.path
    if request.url.query:
        path = f"{path}?{request.url.query}"
    try:
        upstream_response = await upstream.client.request(request.method, path, content=body, headers=headers)
    except httpx.TimeoutException:
        return problem_response(504, "Upstream timeout", f"The {upstream.name} service did not answer in time.",
                                "upstream-timeout", upstream=upstream.name)
    except httpx.TransportError:
        return problem_response(503, "Upstream unavailable", f"The {upstream.name} service cannot be reached.",
                                "upstream-unavailable", upstream=upstream.name)
    response_headers = {k: v for k, v in upstream_response.headers.items() if k.lower() not in _DROP_RESPONSE}
    return Response(content=upstream_response.content, status_code=upstream_response.status_code,
                    headers=response_headers)
