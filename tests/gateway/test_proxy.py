"""Proxying: upstream down (503), slow (504), circuit breaker, trace context, size limit, CORS, streaming,
rate limits (429) and Idempotency-Key, against real gateway processes."""

import re
import threading
import uuid

import httpx

from devstack.stack import Stack
from tests.gateway.conftest import (
    DEGRADED_BREAKER_THRESHOLD,
    EDGE_KEY_RATE_LIMIT,
    EDGE_MAX_BODY,
    EDGE_ORIGIN,
    EDGE_RATE_LIMIT,
    ExtraGateways,
)
from tests.gateway.helpers import assert_problem, client, gateway_url, token_for
from tests.support import Api


def test_upstream_down_is_a_503_naming_it_not_a_hang(stack: Stack, gateways: ExtraGateways) -> None:
    # The client gives up long before the gateway's own 10 s upstream timeout: an answer means no hang.
    with client(gateways.degraded.url, token=token_for(stack, "viewer"), timeout=5) as c:
        body = assert_problem(c.get("/api/erp/projects"), 503)
        assert body["upstream"] == "erp" and "erp" in body["detail"]
        assert body["type"].endswith(("/upstream-unavailable", "/upstream-circuit-open"))
        # The CRM behind the same gateway still answers.
        assert c.get("/api/crm/companies").status_code == 200


def test_circuit_opens_after_consecutive_failures(stack: Stack, gateways: ExtraGateways) -> None:
    with client(gateways.degraded.url, token=token_for(stack, "viewer"), timeout=5) as c:
        kinds = []
        for _ in range(DEGRADED_BREAKER_THRESHOLD + 1):
            response = c.post("/api/erp/projects", json={})
            kinds.append(assert_problem(response, 503)["type"].rsplit("/", 1)[1])
        assert kinds[-1] == "upstream-circuit-open", kinds
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["upstream"] == "erp"


def test_health_reports_the_down_service(gateways: ExtraGateways, stack: Stack) -> None:
    degraded = httpx.get(gateways.degraded.url + "/health", timeout=10)
    assert degraded.status_code == 503
    assert degraded.json()["services"]["erp"]["ok"] is False and degraded.json()["services"]["crm"]["ok"] is True
    healthy = httpx.get(gateway_url(stack) + "/health", timeout=10).json()
    assert set(healthy["services"]) >= {"crm", "erp"}


def test_slow_upstream_is_a_504_naming_it(stack: Stack, gateways: ExtraGateways) -> None:
    with client(gateways.edge.url, token=token_for(stack, "viewer"), timeout=10) as c:
        body = assert_problem(c.get("/api/crm/slow"), 504, "upstream-timeout")
    assert body["upstream"] == "crm"


def test_request_id_and_traceparent_are_forwarded(stack: Stack, gateways: ExtraGateways) -> None:
    trace_id = uuid.uuid4().hex
    incoming = f"00-{trace_id}-{'a1' * 8}-01"
    with client(gateways.edge.url, token=token_for(stack, "viewer")) as c:
        echoed = c.get("/api/crm/echo?x=1", headers={"traceparent": incoming, "x-request-id": "req-123"}).json()
        generated = c.get("/api/crm/echo").json()["headers"]["traceparent"]
    headers = echoed["headers"]
    assert echoed["path"] == "/api/crm/echo?x=1"
    assert headers["x-request-id"] == "req-123"
    version, forwarded_trace, parent, flags = headers["traceparent"].split("-")
    assert (version, forwarded_trace, flags) == ("00", trace_id, "01") and parent != "a1" * 8
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", generated)


def test_request_body_over_the_limit_is_413(stack: Stack, gateways: ExtraGateways) -> None:
    with client(gateways.edge.url, token=token_for(stack, "sales")) as c:
        assert_problem(c.post("/api/crm/echo", content=b"x" * (EDGE_MAX_BODY + 1)), 413, "payload-too-large")
        ok = c.post("/api/crm/echo", content=b"y" * EDGE_MAX_BODY)
    assert ok.status_code == 200 and len(ok.json()["body"]) == EDGE_MAX_BODY


def test_responses_are_streamed_through_intact(stack: Stack, gateways: ExtraGateways) -> None:
    with client(gateways.edge.url, token=token_for(stack, "viewer")) as c:
        body = c.get("/api/crm/big").content
    assert body == b"".join(bytes([i % 256]) * 16384 for i in range(64))


def test_cors_for_configured_origins_only(gateways: ExtraGateways) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed = httpx.options(gateways.edge.url + "/api/crm/companies", headers={"Origin": EDGE_ORIGIN, **preflight})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == EDGE_ORIGIN
    denied = httpx.options(gateways.edge.url + "/api/crm/companies",
                           headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in denied.headers


def test_rate_limit_per_user_with_headers_and_429(stack: Stack, gateways: ExtraGateways) -> None:
    with client(gateways.edge.url, token=token_for(stack, "viewer")) as c:
        answers = [c.get("/api/auth/me") for _ in range(EDGE_RATE_LIMIT)]
        limited = c.get("/api/crm/echo")
    assert [r.status_code for r in answers] == [200] * EDGE_RATE_LIMIT
    assert [int(r.headers["ratelimit-remaining"]) for r in answers] == list(range(EDGE_RATE_LIMIT - 1, -1, -1))
    assert all(r.headers["ratelimit-limit"] == str(EDGE_RATE_LIMIT) for r in answers)
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1 and int(limited.headers["ratelimit-reset"]) >= 1
    # Another user has a bucket of their own.
    with client(gateways.edge.url, token=token_for(stack, "viewer")) as other:
        assert other.get("/api/auth/me").status_code == 200


def test_rate_limit_per_api_key(admin: Api, gateways: ExtraGateways) -> None:
    key = admin.ok("POST", "/api/auth/api-keys", 201, json={"name": "busy robot", "role": "viewer"})["key"]
    with client(gateways.edge.url, api_key=key) as machine:
        statuses = [machine.get("/api/crm/echo").status_code for _ in range(EDGE_KEY_RATE_LIMIT + 1)]
        assert statuses == [200] * EDGE_KEY_RATE_LIMIT + [429]


def test_idempotency_key_replays_refuses_other_bodies(admin: Api) -> None:
    key = uuid.uuid4().hex
    body = {"name": f"Idem {key[:6]}"}
    first = admin.post("/api/crm/companies", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    again = admin.post("/api/crm/companies", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert admin.ok("GET", "/api/crm/companies", params={"q": body["name"]})["total"] == 1
    assert_problem(admin.post("/api/crm/companies", json={"name": "Other"}, headers={"Idempotency-Key": key}), 422,
                   "idempotency-key-reused")
    # Another key is another request: not a replay.
    other = admin.post("/api/crm/companies", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert "idempotent-replayed" not in other.headers and other.json().get("id") != first.json()["id"]


def test_idempotency_key_in_flight_duplicate_is_409(stack: Stack, gateways: ExtraGateways) -> None:
    fake = gateways.fake
    fake.arrived.clear()
    fake.release.clear()
    key = uuid.uuid4().hex
    token = token_for(stack, "sales")
    results: list[httpx.Response] = []

    def first() -> None:
        with client(gateways.edge.url, token=token) as c:
            results.append(c.post("/api/crm/hold", json={"n": 1}, headers={"Idempotency-Key": key}))

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert fake.arrived.wait(10), "the first request never reached the upstream"
        with client(gateways.edge.url, token=token) as c:
            duplicate = c.post("/api/crm/hold", json={"n": 1}, headers={"Idempotency-Key": key})
    finally:
        fake.release.set()
        worker.join(15)
    assert_problem(duplicate, 409, "idempotency-in-flight")
    assert results and results[0].status_code == 201
    holds_before = fake.calls.count("POST /api/crm/hold")
    with client(gateways.edge.url, token=token) as c:
        replay = c.post("/api/crm/hold", json={"n": 1}, headers={"Idempotency-Key": key})
    assert replay.status_code == 201 and replay.json() == results[0].json()
    assert fake.calls.count("POST /api/crm/hold") == holds_before


def test_upstream_server_errors_are_not_stored_for_idempotency(stack: Stack, gateways: ExtraGateways) -> None:
    key = uuid.uuid4().hex
    with client(gateways.edge.url, token=token_for(stack, "sales")) as c:
        for _ in range(2):
            assert c.post("/api/crm/fail", json={}, headers={"Idempotency-Key": key}).status_code == 500
    assert gateways.fake.calls.count("POST /api/crm/fail") >= 2


def test_nul_characters_are_refused_before_reaching_a_service(stack: Stack, gateways: ExtraGateways) -> None:
    with client(gateways.edge.url, token=token_for(stack, "sales")) as c:
        calls = len(gateways.fake.calls)
        assert_problem(c.post("/api/crm/echo", json={"name": "a\x00b"}), 422, "nul-character")
        assert_problem(c.get("/api/crm/echo", params={"q": "a\x00"}), 422, "nul-character")
        assert_problem(c.post("/api/auth/token", data={"username": "a\x00", "password": "x"}), 422, "nul-character")
        assert_problem(c.post("/api/crm/echo", json={"n": "x" * EDGE_MAX_BODY}), 413, "payload-too-large")
        assert len(gateways.fake.calls) == calls
        # An escaped backslash followed by "u0000" is ordinary text.
        echoed = c.post("/api/crm/echo", content=b'{"name": "C:\\\\u0000"}',
                        headers={"content-type": "application/json"})
    assert echoed.status_code == 200 and echoed.json()["body"] == '{"name": "C:\\\\u0000"}'


def test_a_file_upload_larger_than_a_body_passes_to_its_own_limit(stack: Stack) -> None:
    """A month's bank statement (multipart/form-data) is larger than the 5 MiB every other body may be: the gateway and
    the ERP both let an upload through up to its own limit (32 MiB), so the ERP reads the file and judges it."""
    six_megabytes = b"<Document>" + b"x" * (6 * 1024 * 1024) + b"</Document>"
    with client(gateway_url(stack), token=token_for(stack, "finance")) as finance:
        upload = finance.post("/api/erp/bank-statements/preview",
                              files={"file": ("statement.xml", six_megabytes, "application/xml")})
        plain = finance.post("/api/erp/bank-statements/preview", content=six_megabytes,
                             headers={"content-type": "application/xml"})
    assert upload.status_code == 422, upload.text[:300]  # read and refused for what it is, not for its size
    assert_problem(plain, 413)
