"""The circuit breaker, retries, token buckets and trace context, with fakes (no processes, no clock)."""

import httpx
import pytest

from gateway.customers.service import balance_due
from gateway.proxy.forward import child_traceparent
from gateway.proxy.upstreams import CircuitBreaker, Upstream, UpstreamError
from gateway.ratelimit import TokenBuckets


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


def _upstream(handler: httpx.MockTransport, threshold: int = 5) -> Upstream:
    client = httpx.AsyncClient(base_url="http://svc", transport=handler)
    return Upstream("crm", "http://svc", client, CircuitBreaker(threshold, 60), retries=2, retry_backoff=0)


async def test_idempotent_requests_are_retried_on_connect_errors_posts_are_not() -> None:
    attempts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        if len([a for a in attempts if a == request.method]) < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"ok": True})

    upstream = _upstream(httpx.MockTransport(handler))
    response = await upstream.send("GET", "/api/crm/companies")
    assert response.status_code == 200 and attempts.count("GET") == 3
    with pytest.raises(UpstreamError) as failed:
        await upstream.send("POST", "/api/crm/companies", content=b"{}")
    assert attempts.count("POST") == 1
    assert failed.value.status == 503 and failed.value.upstream == "crm"


async def test_timeouts_are_504_and_open_the_circuit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    upstream = _upstream(httpx.MockTransport(handler), threshold=2)
    for _ in range(2):
        with pytest.raises(UpstreamError) as failed:
            await upstream.send("GET", "/x")
        assert failed.value.status == 504
    with pytest.raises(UpstreamError) as rejected:
        await upstream.send("GET", "/x")
    assert rejected.value.type_slug == "upstream-circuit-open" and rejected.value.retry_after


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
