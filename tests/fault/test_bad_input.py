"""Bad input through the gateway: every write operation and every filter of the merged OpenAPI document
gets malformed JSON, wrong types, unicode edge cases, huge bodies and SQL-injection strings. The answer
is always a 4xx problem, never a 5xx, never a stack trace.

Uses the session's shared stack (it breaks nothing). Hand-picked hostile values, complementary to the
generated ones of tests/gateway/test_schemathesis.py.
"""

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import Stack
from tests.support import Api

pytestmark = pytest.mark.fault

SQL_INJECTION = ["' OR '1'='1", "'; DROP TABLE deals; --", "%' UNION SELECT password_hash FROM users --"]
UNICODE_EDGES = ["\u0000", "nul\u0000inside", "\u202eevil\u202c", "\U0001f4b8\U0001f3e2", "e\u0301\u0301\u0301",
                 "\ufeffbom", "\u200b", "x" * 10_000, "\U0001d518\U0001d52b\U0001d526", "\\u0000", "🏳️‍🌈" * 50]
WRONG_TYPES: list[Any] = [12345, 1.5e308, True, None, [], {}, "not-a-number", -1, "2026-13-45", "NaN"]
LEAK_MARKERS = re.compile(r"Traceback|File \"/|sqlalchemy\.|asyncpg\.|psycopg|at 0x[0-9a-f]{6}")
WRITE_METHODS = {"post", "put", "patch"}
# Logging in is a form, logging out ends the session the test uses.
SKIPPED = {("post", "/api/auth/token"), ("post", "/api/auth/logout"), ("post", "/api/auth/refresh")}


@pytest.fixture(scope="module")
def openapi(stack: Stack) -> dict[str, Any]:
    doc: dict[str, Any] = httpx.get(f"http://127.0.0.1:{stack.ports.gateway}/openapi.json", timeout=15).json()
    return doc


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"} and (method, path) not in SKIPPED:
                yield method, path, operation


def concrete(path: str, value: str | None = None) -> str:
    return re.sub(r"\{[^}]+\}", value or str(uuid.uuid4()), path)


def body_properties(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    for _ in range(5):
        if "$ref" not in schema:
            break
        node: Any = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    properties: dict[str, Any] = schema.get("properties", {})
    return properties


def get_bounded(api: Api, url: str, params: dict[str, str]) -> httpx.Response:
    """GET that reads at most 64 KiB: some endpoints stream forever (server-sent events at /api/live)."""
    with api.client.stream("GET", url, params=params) as streamed:
        head = b""
        if not streamed.headers.get("content-type", "").startswith("text/event-stream"):
            for chunk in streamed.iter_bytes():
                head += chunk
                if len(head) >= 65_536:
                    break
        return httpx.Response(streamed.status_code, headers=streamed.headers, content=head)


class Findings:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.sent = 0

    def check(self, what: str, response: httpx.Response) -> None:
        self.sent += 1
        if response.status_code >= 500:
            self.problems.append(f"{what}: {response.status_code} {response.text[:200]}")
        elif LEAK_MARKERS.search(response.text):
            self.problems.append(f"{what}: leaks internals: {response.text[:200]}")
        elif response.status_code >= 400 and not response.headers.get("content-type", "").startswith(
                "application/problem+json") and response.status_code not in (404, 405):
            self.problems.append(f"{what}: {response.status_code} is not a problem+json response")


def test_malformed_and_mistyped_bodies_get_a_4xx_problem(admin: Api, openapi: dict[str, Any]) -> None:
    findings = Findings()
    writes = [(m, p, o) for m, p, o in operations(openapi) if m in WRITE_METHODS and "requestBody" in o]
    assert len(writes) >= 10, "the merged document should list the write operations"
    for method, path, operation in writes:
        url = concrete(path)
        what = f"{method.upper()} {path}"
        for raw in (b"{not json", b"\xff\xfe\x00garbage", b"[]"):
            response = admin.client.request(method, url, content=raw, headers={"Content-Type": "application/json"})
            findings.check(f"{what} raw {raw[:12]!r}", response)
            assert response.status_code >= 400, f"{what} accepted {raw!r}"
        names = list(body_properties(openapi, operation))
        for shift in range(3):  # every property gets three different wrong types, all at once
            body = {name: WRONG_TYPES[(i + shift) % len(WRONG_TYPES)] for i, name in enumerate(names)}
            findings.check(f"{what} {body}", admin.client.request(method, url, json=body))
    assert findings.sent > 50
    assert not findings.problems, "\n".join(findings.problems)


def _is_string(spec: dict[str, Any]) -> bool:
    options = [spec, *spec.get("anyOf", [])]
    return any(o.get("type") == "string" and "format" not in o and "enum" not in o for o in options)


def test_unicode_edge_cases_in_every_string_field_get_a_4xx_or_are_stored_intact(
        admin: Api, openapi: dict[str, Any]) -> None:
    findings = Findings()
    company = admin.new_company()
    for method, path, operation in operations(openapi):
        if method not in WRITE_METHODS or "requestBody" not in operation:
            continue
        strings = [n for n, spec in body_properties(openapi, operation).items() if _is_string(spec)]
        for shift in range(0, len(UNICODE_EDGES), 3) if strings else ():
            body: dict[str, Any] = {"company_id": company["id"]}
            body.update({n: UNICODE_EDGES[(i + shift) % len(UNICODE_EDGES)] for i, n in enumerate(strings)})
            findings.check(f"{method.upper()} {path} {str(body)[:80]}",
                           admin.client.request(method, concrete(path), json=body))
    # A name with combining marks, emoji and right-to-left overrides is a valid name: stored as sent.
    name = "Ünïcödé \u202eS.A.\u202c \U0001f4b8 e\u0301 " + uuid.uuid4().hex[:6]
    created = admin.ok("POST", "/api/crm/companies", 201, json={"name": name})
    assert admin.ok("GET", f"/api/crm/companies/{created['id']}")["name"] == name
    assert findings.sent > 20
    assert not findings.problems, "\n".join(findings.problems)


def test_sql_injection_in_filters_search_and_ids_is_just_text(admin: Api, openapi: dict[str, Any]) -> None:
    findings = Findings()
    for method, path, operation in operations(openapi):
        if method != "get":
            continue
        params = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        text_params = [p["name"] for p in params if _is_string(p.get("schema", {}))]
        typed_params = [p["name"] for p in params if p["name"] not in text_params]
        for injection in SQL_INJECTION:
            url = concrete(path, injection if "{" in path and injection == SQL_INJECTION[0] else None)
            for name in text_params:  # free text reaches the database: one at a time
                findings.check(f"GET {path}?{name}={injection!r}", get_bounded(admin, url, {name: injection}))
            if typed_params and injection == SQL_INJECTION[0]:  # uuids, dates, numbers: refused at parsing
                findings.check(f"GET {path}?{typed_params}=injection",
                               get_bounded(admin, url, dict.fromkeys(typed_params, injection)))
    # The search is a search: the injection finds nothing and drops nothing.
    before = admin.ok("GET", "/api/crm/companies", params={"limit": 1})["total"]
    for injection in SQL_INJECTION:
        assert admin.ok("GET", "/api/crm/companies", params={"q": injection})["total"] == 0
    assert admin.ok("GET", "/api/crm/companies", params={"limit": 1})["total"] >= before
    assert findings.sent > 30
    assert not findings.problems, "\n".join(findings.problems)


def test_huge_bodies_are_refused_before_reaching_a_service(admin: Api) -> None:
    huge = json.dumps({"name": "x" * (6 * 1024 * 1024)}).encode()
    response = admin.post("/api/crm/companies", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text[:200]
    assert response.headers["content-type"].startswith("application/problem+json")
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    nested = admin.post("/api/crm/companies", content=deep, headers={"Content-Type": "application/json"})
    assert 400 <= nested.status_code < 500, nested.text[:200]
    many = {f"k{i}": i for i in range(50_000)}
    wide = admin.post("/api/crm/companies", json=many)
    assert 400 <= wide.status_code < 500
    assert not LEAK_MARKERS.search(nested.text + wide.text)
