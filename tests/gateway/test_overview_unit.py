"""The overview's degradation rules with fake upstreams (small HTTP servers in the test's event loop, or a
closed port for a service that is down): which part is null, which warning."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from gateway.customers.service import Fetcher, overview
from gateway.proxy.upstreams import CircuitBreaker, Upstream
from tests.gateway.helpers import closed_port_url, serving
from throughline_platform.problems import NotFound, ProblemError

COMPANY = uuid.uuid4()
CLIENT = str(uuid.uuid4())
Handler = Callable[[str], tuple[int, Any]] | None  # path -> (status, JSON body); None: the service is down


def crm_ok(path: str) -> tuple[int, Any]:
    if path == f"/api/crm/companies/{COMPANY}":
        return 200, {"id": str(COMPANY), "name": "Acme"}
    if path in ("/api/crm/contacts", "/api/crm/deals", "/api/crm/activities"):
        return 200, {"items": [{"id": "x"}], "total": 1, "limit": 50, "offset": 0}
    return 404, {}


def erp_ok(path: str) -> tuple[int, Any]:
    if path == "/api/erp/clients":
        return 200, {"items": [{"id": CLIENT, "crm_company_id": str(COMPANY)}]}
    if path == "/api/erp/projects":
        return 200, {"items": [{"id": "p", "client_id": CLIENT}]}
    if path == "/api/erp/invoices":
        return 200, {"items": [
            {"id": "i", "client_id": CLIENT, "status": "issued", "currency": "EUR", "balance_due": "10.00"}]}
    return 404, {}


down: Handler = None


@asynccontextmanager
async def fetcher(crm: Handler, erp: Handler) -> AsyncIterator[Fetcher]:
    async with AsyncExitStack() as stack:
        upstreams = {}
        for name, answer in (("crm", crm), ("erp", erp)):
            if answer is None:
                url = closed_port_url()
            else:
                async def handle(request: web.Request, answer: Callable[[str], tuple[int, Any]] = answer
                                 ) -> web.Response:
                    status, body = answer(request.path)
                    return web.json_response(body, status=status)

                url = await stack.enter_async_context(serving(handle))
            upstreams[name] = Upstream(name, url, breaker=CircuitBreaker(100, 60), retries=0)
            stack.push_async_callback(upstreams[name].aclose)
        yield Fetcher(upstreams, [])


async def test_everything_up() -> None:
    async with fetcher(crm_ok, erp_ok) as parts:
        view = await overview(parts, COMPANY)
    assert not view.partial and view.company == {"id": str(COMPANY), "name": "Acme"}
    assert view.projects == [{"id": "p", "client_id": CLIENT}]
    assert [b.model_dump() for b in view.balance_due or []] == [{"currency": "EUR", "amount": "10.00"}]


async def test_crm_down_keeps_what_the_erp_knows() -> None:
    async with fetcher(down, erp_ok) as parts:
        view = await overview(parts, COMPANY)
    assert view.partial and view.company is None and view.open_deals is None
    assert view.erp_client is not None and view.projects is not None
    assert {w.upstream for w in view.warnings} == {"crm"}


async def test_missing_erp_endpoint_is_a_warning_not_a_failure() -> None:
    def no_invoices(path: str) -> tuple[int, Any]:
        return (404, {}) if path == "/api/erp/invoices" else erp_ok(path)

    async with fetcher(crm_ok, no_invoices) as parts:
        view = await overview(parts, COMPANY)
    assert view.partial and view.invoices is None and view.balance_due is None and view.projects
    assert [(w.upstream, w.part) for w in view.warnings] == [("erp", "invoices")]


async def test_both_down_is_503_and_unknown_company_is_404() -> None:
    async with fetcher(down, down) as parts:
        with pytest.raises(ProblemError) as both:
            await overview(parts, COMPANY)
    assert both.value.status == 503
    async with fetcher(crm_ok, erp_ok) as parts:
        with pytest.raises(NotFound):
            await overview(parts, uuid.uuid4())
