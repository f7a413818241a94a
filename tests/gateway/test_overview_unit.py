"""The overview's degradation rules with fake upstreams (MockTransport): which part is null, which warning."""

import uuid
from collections.abc import Callable

import httpx
import pytest

from gateway.customers.service import Fetcher, overview
from gateway.proxy.upstreams import CircuitBreaker, Upstream
from throughline_messaging.problems import NotFound, ProblemError

COMPANY = uuid.uuid4()
CLIENT = str(uuid.uuid4())
Handler = Callable[[httpx.Request], httpx.Response]


def crm_ok(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == f"/api/crm/companies/{COMPANY}":
        return httpx.Response(200, json={"id": str(COMPANY), "name": "Acme"})
    if path in ("/api/crm/contacts", "/api/crm/deals", "/api/crm/activities"):
        return httpx.Response(200, json={"items": [{"id": "x"}], "total": 1, "limit": 50, "offset": 0})
    return httpx.Response(404, json={})


def erp_ok(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/api/erp/clients":
        return httpx.Response(200, json={"items": [{"id": CLIENT, "crm_company_id": str(COMPANY)}]})
    if path == "/api/erp/projects":
        return httpx.Response(200, json={"items": [{"id": "p", "client_id": CLIENT}]})
    if path == "/api/erp/invoices":
        return httpx.Response(200, json={"items": [
            {"id": "i", "client_id": CLIENT, "status": "issued", "currency": "EUR", "balance_due": "10.00"}]})
    return httpx.Response(404, json={})


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def fetcher(crm: Handler, erp: Handler) -> Fetcher:
    def upstream(name: str, handler: Handler) -> Upstream:
        client = httpx.AsyncClient(base_url=f"http://{name}", transport=httpx.MockTransport(handler))
        return Upstream(name, f"http://{name}", client, CircuitBreaker(100, 60), retries=0)

    return Fetcher({"crm": upstream("crm", crm), "erp": upstream("erp", erp)}, [])


async def test_everything_up() -> None:
    view = await overview(fetcher(crm_ok, erp_ok), COMPANY)
    assert not view.partial and view.company == {"id": str(COMPANY), "name": "Acme"}
    assert view.projects == [{"id": "p", "client_id": CLIENT}]
    assert [b.model_dump() for b in view.balance_due or []] == [{"currency": "EUR", "amount": "10.00"}]


async def test_crm_down_keeps_what_the_erp_knows() -> None:
    view = await overview(fetcher(down, erp_ok), COMPANY)
    assert view.partial and view.company is None and view.open_deals is None
    assert view.erp_client is not None and view.projects is not None
    assert {w.upstream for w in view.warnings} == {"crm"}


async def test_missing_erp_endpoint_is_a_warning_not_a_failure() -> None:
    def no_invoices(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={}) if request.url.path == "/api/erp/invoices" else erp_ok(request)

    view = await overview(fetcher(crm_ok, no_invoices), COMPANY)
    assert view.partial and view.invoices is None and view.balance_due is None and view.projects
    assert [(w.upstream, w.part) for w in view.warnings] == [("erp", "invoices")]


async def test_both_down_is_503_and_unknown_company_is_404() -> None:
    with pytest.raises(ProblemError) as both:
        await overview(fetcher(down, down), COMPANY)
    assert both.value.status == 503
    with pytest.raises(NotFound):
        await overview(fetcher(crm_ok, erp_ok), uuid.uuid4())
