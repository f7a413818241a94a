"""GET /api/customers/{company_id}/overview: CRM and ERP fetched in parallel, partial when one is down.

Phase 1 (parallel): CRM company, contacts, open deals, last activities; the ERP client replica of the company
(`/api/erp/clients?crm_company_id=`). Phase 2 (parallel, needs the ERP client id): its projects and invoices.
"""

import asyncio
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from gateway.customers.schemas import Balance, CustomerOverview, OverviewWarning
from gateway.proxy.upstreams import Upstream, UpstreamError
from throughline_events.money import MINOR_UNITS
from throughline_platform.problems import NotFound, ProblemError

OPEN_INVOICE_STATUSES = frozenset({"issued", "partially_paid", "overdue", "sent", "open"})
ACTIVITY_COUNT = 10


class PartFailed(Exception):
    def __init__(self, upstream: str, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.upstream = upstream
        self.detail = detail
        self.status = status


class Fetcher:
    def __init__(self, upstreams: dict[str, Upstream], headers: list[tuple[str, str]]) -> None:
        self.upstreams = upstreams
        self.headers = headers

    async def get(self, upstream: str, path: str, params: dict[str, str] | None = None) -> Any:
        target = f"{path}?{urlencode(params)}" if params else path
        try:
            response = await self.upstreams[upstream].send("GET", target, headers=self.headers)
        except UpstreamError as exc:
            raise PartFailed(upstream, exc.detail, exc.status) from None
        if response.status_code != 200:
            detail = f"GET {path} answered {response.status_code}"
            if response.status_code == 404 and path.count("/") <= 3:
                detail += " (this endpoint is not available in the deployed version)"
            raise PartFailed(upstream, detail, response.status_code)
        try:
            return response.json()
        except ValueError:
            raise PartFailed(upstream, f"GET {path} answered with a body that is not JSON") from None


def _items(page: Any) -> list[dict[str, Any]]:
    if isinstance(page, dict) and isinstance(page.get("items"), list):
        return [i for i in page["items"] if isinstance(i, dict)]
    if isinstance(page, list):
        return [i for i in page if isinstance(i, dict)]
    return []


def balance_due(invoices: list[dict[str, Any]]) -> list[Balance]:
    totals: dict[str, Decimal] = {}
    for invoice in invoices:
        if str(invoice.get("status", "")).lower() not in OPEN_INVOICE_STATUSES:
            continue
        if invoice.get("kind", "invoice") != "invoice":  # credit notes reduce their invoice's balance already
            continue
        currency = str(invoice.get("currency") or "")
        try:
            if invoice.get("balance_due") is not None:
                due = Decimal(str(invoice["balance_due"]))
            elif invoice.get("amount_due") is not None:
                due = Decimal(str(invoice["amount_due"]))
            else:
                due = Decimal(str(invoice.get("total", "0"))) - Decimal(str(invoice.get("amount_paid", "0")))
        except ArithmeticError:
            continue
        totals[currency] = totals.get(currency, Decimal(0)) + due
    result = []
    for currency, amount in sorted(totals.items()):
        exponent = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
        result.append(Balance(currency=currency, amount=str(amount.quantize(exponent))))
    return result


async def overview(fetcher: Fetcher, company_id: uuid.UUID) -> CustomerOverview:
    cid = str(company_id)
    warnings: list[OverviewWarning] = []

    async def part(name: str, upstream: str, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            return await fetcher.get(upstream, path, params)
        except PartFailed as exc:
            if name == "company" and exc.status == 404:
                raise NotFound(f"Company {company_id} does not exist.") from None
            warnings.append(OverviewWarning(upstream=exc.upstream, part=name, detail=exc.detail))
            return None

    company, contacts, open_deals, activities, clients = await asyncio.gather(
        part("company", "crm", f"/api/crm/companies/{cid}"),
        part("contacts", "crm", "/api/crm/contacts", {"company_id": cid, "limit": "100"}),
        part("open_deals", "crm", "/api/crm/deals", {"company_id": cid, "status": "open", "limit": "100"}),
        part("last_activities", "crm", "/api/crm/activities",
             {"company_id": cid, "limit": str(ACTIVITY_COUNT)}),
        part("erp_client", "erp", "/api/erp/clients", {"crm_company_id": cid, "limit": "1"}),
    )
    erp_down = clients is None
    client = next(iter(_items(clients)), None)
    erp_unknown = erp_down
    projects: list[dict[str, Any]] | None = None if erp_unknown else []
    invoices: list[dict[str, Any]] | None = None if erp_unknown else []
    if client is not None and not erp_down:
        client_id = str(client.get("id"))
        project_page, invoice_page = await asyncio.gather(
            part("projects", "erp", "/api/erp/projects", {"client_id": client_id, "limit": "200"}),
            part("invoices", "erp", "/api/erp/invoices", {"client_id": client_id, "limit": "200"}),
        )
        projects = None if project_page is None else _items(project_page)
        invoices = None if invoice_page is None else [
            i for i in _items(invoice_page) if str(i.get("client_id", client_id)) == client_id]
    if any(w.upstream == "erp" for w in warnings) and any(w.upstream == "crm" and w.part == "company"
                                                           for w in warnings):
        raise ProblemError("Neither the CRM nor the ERP service could be reached.", status=503,
                           title="Upstream unavailable", type_slug="upstream-unavailable", upstream="crm,erp")
    return CustomerOverview(
        company_id=company_id,
        company=company if isinstance(company, dict) else None,
        contacts=None if contacts is None else _items(contacts),
        open_deals=None if open_deals is None else _items(open_deals),
        last_activities=None if activities is None else _items(activities)[:ACTIVITY_COUNT],
        erp_client=client,
        projects=projects,
        invoices=invoices,
        balance_due=None if invoices is None else balance_due(invoices),
        partial=bool(warnings),
        warnings=warnings,
    )
