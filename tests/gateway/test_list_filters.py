"""List filters through the gateway (issue 24): owner, amount and date ranges, checked input (422, never 500)."""

import uuid
from datetime import date, timedelta

from tests.gateway.helpers import assert_problem
from tests.support import Api, fixed_terms


def test_deals_by_owner_amount_and_close_date(admin: Api) -> None:
    company = admin.new_company()
    me = admin.ok("GET", "/api/auth/me")["id"]
    other = str(uuid.uuid4())
    soon = (date.today() + timedelta(days=10)).isoformat()
    later = (date.today() + timedelta(days=90)).isoformat()
    small = admin.new_deal(company["id"], amount="900.00", owner_id=me, expected_close_date=soon)
    big = admin.new_deal(company["id"], amount="25000.00", owner_id=me, expected_close_date=later)
    theirs = admin.new_deal(company["id"], amount="5000.00", owner_id=other, expected_close_date=soon)

    def ids(**params: str) -> set[str]:
        page = admin.ok("GET", "/api/crm/deals", params={"company_id": company["id"], **params})
        return {d["id"] for d in page["items"]}

    assert ids(owner_id=me) == {small["id"], big["id"]}
    assert ids(amount_min="1000") == {big["id"], theirs["id"]}
    assert ids(amount_min="1000", amount_max="10000") == {theirs["id"]}
    assert ids(amount_max="900.00", currency="EUR") == {small["id"]}
    assert ids(close_to=soon) == {small["id"], theirs["id"]}
    assert ids(owner_id=me, close_from=later) == {big["id"]}
    for bad in ({"amount_min": "10", "amount_max": "5"}, {"close_from": later, "close_to": soon},
                {"amount_min": "-1"}, {"amount_max": "NaN"}, {"currency": "euro"}):
        assert_problem(admin.get("/api/crm/deals", params=bad), 422)


def test_leads_by_received_date(admin: Api) -> None:
    suffix = uuid.uuid4().hex[:8]
    lead = admin.ok("POST", "/api/crm/leads", 201, json={"first_name": "Rita", "company_name": f"Range {suffix}",
                                                          "email": f"rita-{suffix}@example.com"})
    today = date.today()

    def found(**params: str) -> bool:
        page = admin.ok("GET", "/api/crm/leads", params={"q": suffix, **params})
        return lead["id"] in {x["id"] for x in page["items"]}

    assert found(received_from=(today - timedelta(days=1)).isoformat(),
                 received_to=(today + timedelta(days=1)).isoformat())
    assert not found(received_to=(today - timedelta(days=1)).isoformat())
    assert not found(received_from=(today + timedelta(days=1)).isoformat())
    assert_problem(admin.get("/api/crm/leads", params={"received_from": today.isoformat(),
                                                      "received_to": (today - timedelta(days=3)).isoformat()}), 422)


def test_invoices_by_client_status_and_total(admin: Api) -> None:
    deal = admin.won_deal(billing=fixed_terms(1))
    project = admin.project_of(deal["id"])
    small = admin.ok("POST", "/api/erp/invoices", 201, json={
        "project_id": project["id"], "lines": [{"description": "Small", "quantity": "1", "unit_price": "100.00"}]})
    large = admin.ok("POST", "/api/erp/invoices", 201, json={
        "project_id": project["id"], "lines": [{"description": "Large", "quantity": "1", "unit_price": "8000.00"}]})

    def ids(**params: str) -> set[str]:
        page = admin.ok("GET", "/api/erp/invoices", params={"client_id": project["client_id"], **params})
        return {i["id"] for i in page["items"]}

    assert {small["id"], large["id"]} <= ids(status="draft")
    assert ids(status="draft", total_min="1000") == {large["id"]}
    assert ids(status="draft", total_max="1000") == {small["id"]}
    for bad in ({"total_min": "9", "total_max": "1"}, {"issued_from": "2026-05-01", "issued_to": "2026-04-01"},
                {"total_min": "abc"}):
        assert_problem(admin.get("/api/erp/invoices", params=bad), 422)
