"""Defence in depth, on the real processes: the services refuse oversized bodies themselves and carry the security
headers (their rendered invoice too, through the gateway), /metrics is for this machine only when no METRICS_TOKEN
is set (a client named by a trusted local proxy is not this machine)."""

from collections.abc import Iterator

import httpx
import pytest

from devstack.stack import Stack
from tests.support import Api

SIX_MIB = 6 * 1024 * 1024


@pytest.mark.parametrize("service", ["crm", "erp"])
def test_a_service_called_directly_refuses_a_body_over_its_limit(stack: Stack, admin: Api, service: str) -> None:
    port = stack.ports.crm if service == "crm" else stack.ports.erp
    url = f"http://127.0.0.1:{port}/api/{service}/{'companies' if service == 'crm' else 'projects'}"
    headers = {"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"}
    declared = httpx.post(url, content=b" " * SIX_MIB, headers=headers, timeout=30)
    assert declared.status_code == 413 and declared.json()["type"].endswith("/payload-too-large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the service counts the bytes as it reads them
        for _ in range(SIX_MIB // 65536):
            yield b" " * 65536

    streamed = httpx.post(url, content=chunks(), headers=headers, timeout=30)
    assert streamed.status_code == 413, streamed.text[:200]
    assert streamed.headers["content-security-policy"].startswith("default-src 'none'")


def test_services_answer_with_the_security_headers(stack: Stack, admin: Api) -> None:
    direct = httpx.get(f"http://127.0.0.1:{stack.ports.crm}/api/crm/companies",
                       headers={"Authorization": f"Bearer {admin.token}"}, timeout=10)
    assert direct.status_code == 200
    for response in (direct, admin.get("/api/erp/projects")):  # direct, and a service's answer through the gateway
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_the_rendered_invoice_carries_the_headers(stack: Stack, admin: Api) -> None:
    deal = admin.won_deal()
    project = admin.project_of(deal["id"])
    draft = admin.ok("POST", "/api/erp/invoices", 201, json={
        "project_id": project["id"], "lines": [{"description": "Workshop", "quantity": "1", "unit_price": "100.00"}]})
    page = admin.get(f"/api/erp/invoices/{draft['id']}/html", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"


def test_metrics_are_for_this_machine_only_without_a_token(stack: Stack) -> None:
    for port in (stack.ports.gateway, stack.ports.crm, stack.ports.erp_worker):
        local = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert local.status_code == 200 and "http_requests_total" in local.text, port
    # A request forwarded by a local reverse proxy (127.0.0.1 is the proxy uvicorn trusts) comes from its client.
    forwarded = httpx.get(f"http://127.0.0.1:{stack.ports.gateway}/metrics",
                          headers={"X-Forwarded-For": "203.0.113.50"}, timeout=10)
    assert forwarded.status_code == 403 and "METRICS_TOKEN" in forwarded.json()["detail"]
