"""The circuit breaker, retries, token buckets and trace context, with fakes (no processes, no clock) and small
servers in the test's event loop."""

import asyncio
import socket
import threading
import time

import aiohttp
import pytest
from aiohttp import web

from gateway.customers.service import balance_due
from gateway.proxy.forward import child_traceparent
from gateway.proxy.upstreams import CircuitBreaker, LiveConnectionsConnector, Upstream, UpstreamError
from gateway.ratelimit import TokenBuckets
from tests.gateway.helpers import closed_port_url, serving


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_threshold_then_half_opens_with_one_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "closed"
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow() and breaker.retry_after() == 10
    clock.now += 10
    assert breaker.state == "half_open"
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()


def test_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown=10, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"


def _attempt_counter(attempts: list[str]) -> aiohttp.TraceConfig:
    """Counts every request the upstream client starts (each retry is one)."""
    async def started(_session: object, _context: object, params: aiohttp.TraceRequestStartParams) -> None:
        attempts.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(started)
    return trace


async def test_idempotent_requests_are_retried_on_connect_errors_posts_are_not() -> None:
    attempts: list[str] = []
    upstream = Upstream("crm", closed_port_url(), breaker=CircuitBreaker(5, 60), retries=2, retry_backoff=0,
                        trace_configs=[_attempt_counter(attempts)])
    try:
        with pytest.raises(UpstreamError) as failed_get:
            await upstream.send("GET", "/api/crm/companies")
        assert attempts.count("GET") == 3
        assert failed_get.value.status == 503 and failed_get.value.type_slug == "upstream-unavailable"
        with pytest.raises(UpstreamError) as failed_post:
            await upstream.send("POST", "/api/crm/companies", content=b"{}")
        assert attempts.count("POST") == 1
        assert failed_post.value.status == 503 and failed_post.value.upstream == "crm"
        assert upstream.breaker.failures == 2  # one per request, not per attempt
    finally:
        await upstream.aclose()


async def test_timeouts_are_504_and_open_the_circuit() -> None:
    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.json_response({})

    async with serving(slow) as url:
        upstream = Upstream("crm", url, timeout=0.2, breaker=CircuitBreaker(2, 60), retry_backoff=0)
        try:
            for _ in range(2):
                with pytest.raises(UpstreamError) as failed:
                    await upstream.send("GET", "/x")
                assert failed.value.status == 504 and failed.value.type_slug == "upstream-timeout"
            with pytest.raises(UpstreamError) as rejected:
                await upstream.send("GET", "/x")
            assert rejected.value.type_slug == "upstream-circuit-open" and rejected.value.retry_after
        finally:
            await upstream.aclose()


async def test_a_connection_broken_mid_answer_is_502() -> None:
    async def half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"partial\":")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(half_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    upstream = Upstream("erp", f"http://127.0.0.1:{port}", breaker=CircuitBreaker(5, 60))
    try:
        with pytest.raises(UpstreamError) as broken:
            await upstream.send("GET", "/api/erp/projects")
        assert broken.value.status == 502 and broken.value.type_slug == "upstream-broken"
        assert broken.value.upstream == "erp" and upstream.breaker.failures == 1
    finally:
        await upstream.aclose()
        server.close()
        await server.wait_closed()


async def test_path_and_query_go_upstream_as_sent_with_only_the_callers_headers() -> None:
    seen: dict[str, object] = {}

    async def echo(request: web.Request) -> web.Response:
        seen.update(raw_path=request.raw_path, headers={k.lower() for k in request.headers})
        return web.json_response({"ok": True})

    async with serving(echo) as url:
        upstream = Upstream("crm", url)
        try:
            answer = await upstream.send("GET", "/api/crm/companies?q=a%20b&tag=%2F", headers=[("x-one", "1")])
        finally:
            await upstream.aclose()
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert seen["raw_path"] == "/api/crm/companies?q=a%20b&tag=%2F"
    # Nothing invented by the client library (an Accept-Encoding the caller never sent, a User-Agent).
    assert seen["headers"] == {"host", "x-one"}


def test_token_bucket_refills_over_time() -> None:
    buckets = TokenBuckets(capacity=2, window=60)
    assert buckets.take("u", now=0).allowed and buckets.take("u", now=0).allowed
    denied = buckets.take("u", now=0)
    assert not denied.allowed and denied.retry_after == 30 and denied.headers()["Retry-After"] == "30"
    assert buckets.take("other", now=0).allowed
    assert buckets.take("u", now=30).allowed
    assert TokenBuckets(0).enabled is False


def test_traceparent_keeps_valid_trace_ids_and_replaces_invalid_ones() -> None:
    kept = child_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert kept.startswith("00-0af7651916cd43dd8448eb211c80319c-") and not kept.endswith("b7ad6b7169203331-01")
    for bad in (None, "", "garbage", "00-00000000000000000000000000000000-b7ad6b7169203331-01"):
        assert child_traceparent(bad).split("-")[1] != "0" * 32


def test_balance_due_sums_open_invoices_per_currency() -> None:
    invoices = [
        {"status": "issued", "currency": "EUR", "balance_due": "100.10"},
        {"status": "partially_paid", "currency": "EUR", "total": "50.00", "amount_paid": "20.005"},
        {"status": "paid", "currency": "EUR", "balance_due": "0.00"},
        {"status": "draft", "currency": "EUR", "total": "999.00"},
        {"status": "overdue", "currency": "JPY", "amount_due": "1500"},
    ]
    assert [b.model_dump() for b in balance_due(invoices)] == [
        {"currency": "EUR", "amount": "130.10"}, {"currency": "JPY", "amount": "1500"}]


def test_merge_prefixes_service_schemas_rewrites_refs_and_documents_problems() -> None:
    from gateway.apidocs import merge

    page = {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Out"}}}}
    service = {
        "openapi": "3.1.0",
        "paths": {
            "/api/crm/things/{id}": {"get": {"operationId": "get_thing", "tags": ["things"], "responses": {
                "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}},
                "422": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}}}},
            "/health/ready": {"get": {"responses": {"200": {}}}},
        },
        "components": {"schemas": {"Out": {"type": "object"}, "Page": page, "HTTPValidationError": {}}},
    }
    gateway_doc = {"openapi": "3.1.0", "info": {"version": "1"}, "paths": {},
                   "components": {"schemas": {"Out": {"type": "string"}}}}
    merged = merge(gateway_doc, {"crm": service, "erp": None})
    schemas = merged["components"]["schemas"]
    assert schemas["Out"] == {"type": "string"} and schemas["CrmOut"] == {"type": "object"}
    assert schemas["CrmPage"]["properties"]["items"]["items"]["$ref"] == "#/components/schemas/CrmOut"
    assert "CrmHTTPValidationError" not in schemas and "Problem" in schemas
    operation = merged["paths"]["/api/crm/things/{id}"]["get"]
    assert operation["operationId"] == "crm_get_thing" and operation["tags"] == ["crm: things"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"] == "#/components/schemas/CrmOut"
    for code in ("401", "403", "404", "422", "429", "502", "503", "504"):
        assert operation["responses"][code]["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"}
    assert "/health/ready" not in merged["paths"]
    assert merged["info"]["x-missing-services"] == ["erp"]


async def test_a_stream_stops_when_the_caller_goes_away() -> None:
    from gateway.proxy.forward import _until_disconnect

    stopped = asyncio.Event()

    async def endless_copy() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()

    async def caller_leaves() -> dict[str, str]:
        await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    await asyncio.wait_for(_until_disconnect(endless_copy(), caller_leaves), timeout=5)
    assert stopped.is_set()


async def test_a_stream_that_fails_raises_its_error() -> None:
    from gateway.proxy.forward import _until_disconnect

    async def broken_copy() -> None:
        raise UpstreamError("crm", 502, "broke", title="Bad gateway", type_slug="upstream-broken")

    async def caller_stays() -> dict[str, str]:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    with pytest.raises(UpstreamError) as failed:
        await asyncio.wait_for(_until_disconnect(broken_copy(), caller_stays), timeout=5)
    assert failed.value.status == 502


class RawService:
    """A bare HTTP/1.1 service in a thread, to control exactly when connections close. Every request is answered
    `{}` with keep-alive, after which the connection is closed `close_after` seconds later (as a service used to do
    after each 500), or, with `answer=False`, closed as soon as the request has been read (it reached the service)."""

    def __init__(self, *, close_after: float = 0.02, answer: bool = True) -> None:
        self.close_after = close_after
        self.answer = answer
        self.requests: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            length = next((int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            self.requests.append(" ".join(lines[0].split()[:2]))
            if self.answer:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                time.sleep(self.close_after)

    def close(self) -> None:
        self.listener.close()


async def test_a_post_never_goes_out_on_a_connection_the_service_already_closed() -> None:
    service = RawService(close_after=0.02)
    upstream = Upstream("crm", service.url, breaker=CircuitBreaker(5, 60), retries=0)
    dropped = LiveConnectionsConnector.dropped
    try:
        assert (await upstream.send("GET", "/api/crm/first")).status_code == 200
        # Block the event loop: the service's close reaches the socket, but the loop (and so the pool) has not
        # seen it yet, which is the moment a busy gateway sends the next request on that connection.
        time.sleep(0.2)
        answer = await upstream.send("POST", "/api/crm/second", headers=[("content-type", "application/json")],
                                     content=b'{"a": 1}')
        assert answer.status_code == 200
        assert service.requests == ["GET /api/crm/first", "POST /api/crm/second"]  # the POST arrived once
        assert LiveConnectionsConnector.dropped == dropped + 1
        assert upstream.breaker.failures == 0
    finally:
        await upstream.aclose()
        service.close()


async def test_a_post_that_may_have_reached_the_service_is_not_sent_again() -> None:
    service = RawService(answer=False)  # reads the request, then closes without a word
    upstream = Upstream("crm", service.url, breaker=CircuitBreaker(5, 60), retries=2, retry_backoff=0)
    try:
        with pytest.raises(UpstreamError) as failed:
            await upstream.send("POST", "/api/crm/companies", content=b"{}")
        assert failed.value.status == 502 and failed.value.type_slug == "upstream-broken"
        assert service.requests == ["POST /api/crm/companies"]
    finally:
        await upstream.aclose()
        service.close()
