"""The platform's promise, through the gateway: a won deal becomes an ERP project with its schedule."""

from decimal import Decimal

import httpx

from devstack.stack import Stack
from tests.support import Api, fixed_terms, wait_for


def test_won_deal_with_milestones_becomes_project_with_schedule(admin: Api) -> None:
    company = admin.new_company("Northwind Studio")
    billing = {"type": "milestones", "milestones": [
        {"name": "Kickoff", "percent": "30", "due_date": "2026-12-01"},
        {"name": "Beta", "percent": "33.33", "due_date": "2027-01-15"},
        {"name": "Launch", "percent": "36.67", "due_date": "2027-03-01"},
    ]}
    deal = admin.new_deal(company["id"], amount="10000.01", billing=billing)
    won = admin.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    assert won["status"] == "won"

    project = admin.project_of(deal["id"])
    assert project["deal_id"] == deal["id"]
    assert project["name"] == deal["title"]
    assert Decimal(project["budget_amount"]) == Decimal("10000.01")
    assert project["currency"] == "EUR"

    schedule = admin.ok("GET", f"/api/erp/projects/{project['id']}/billing-schedule")
    amounts = [Decimal(item["amount"]) for item in schedule["items"]]
    assert [item["label"] for item in schedule["items"]] == ["Kickoff", "Beta", "Launch"]
    # 30 % and 33.33 % rounded down to the cent; the remainder lands on the last item; the sum is exact.
    assert amounts == [Decimal("3000.00"), Decimal("3333.00"), Decimal("3667.01")]
    assert sum(amounts) == Decimal("10000.01")
    assert schedule["billing_type"] == "milestones"

    client = admin.ok("GET", f"/api/erp/clients/{project['client_id']}")
    assert client["crm_company_id"] == company["id"]
    by_company = admin.ok("GET", "/api/erp/clients", params={"crm_company_id": company["id"]})
    assert [c["id"] for c in by_company["items"]] == [project["client_id"]]
    assert client["name"] == "Northwind Studio"

    # And back: the ERP's project.created lands on the company's sales timeline in the CRM.
    def project_fact() -> dict[str, str] | None:
        facts = admin.ok("GET", "/api/crm/erp-facts", params={"company_id": company["id"]})
        return next((f for f in facts if f["kind"] == "project.created"), None)

    fact = wait_for(project_fact, 15, "project.created on the CRM timeline")
    assert fact["deal_id"] == deal["id"]
    assert "Kickoff" not in fact["summary"] and "3 items" in fact["summary"]


def test_each_billing_type_gives_an_exact_schedule(admin: Api) -> None:
    cases = {
        "fixed": (fixed_terms(3), "1000.00", ["333.33", "333.33", "333.34"]),
        "retainer": ({"type": "retainer", "amount": "500.00", "interval": "month", "count": 2,
                      "start_date": "2027-01-31"}, "1000.00", ["500.00", "500.00"]),
        "time_and_materials": ({"type": "time_and_materials", "hourly_rate": "120.00", "cap": "2000.00"},
                               "2000.00", []),
    }
    for billing_type, (terms, amount, expected) in cases.items():
        deal = admin.won_deal(billing=terms, amount=amount)
        project = admin.project_of(deal["id"])
        schedule = admin.ok("GET", f"/api/erp/projects/{project['id']}/billing-schedule")
        assert schedule["billing_type"] == billing_type
        assert [item["amount"] for item in schedule["items"]] == expected, billing_type
    retainer = admin.project_of(admin.won_deal(billing=cases["retainer"][0], amount="1000.00")["id"])
    dates = [i["due_date"] for i in admin.ok("GET", f"/api/erp/projects/{retainer['id']}/billing-schedule")["items"]]
    assert dates == ["2027-01-31", "2027-02-28"]  # month ends stay month ends


def test_gateway_passes_request_id_and_every_api_route_needs_a_token(stack: Stack, admin: Api) -> None:
    response = admin.get("/api/crm/pipelines", headers={"X-Request-ID": "trace-me-123"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-me-123"
    default = next(p for p in response.json() if p["is_default"])
    stages = [s["name"] for s in default["stages"]]
    assert stages == ["Lead in", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]

    gateway = f"http://127.0.0.1:{stack.ports.gateway}"
    for path in ("/api/crm/companies", "/api/erp/projects", "/api/auth/me"):
        anonymous = httpx.get(gateway + path)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["content-type"].startswith("application/problem+json")
    forged = httpx.get(gateway + "/api/crm/companies", headers={"Authorization": "Bearer " + admin.token[:-4] + "AAAA"})
    assert forged.status_code == 401
    # The services check the token themselves too: going around the gateway does not open them.
    for port in (stack.ports.crm, stack.ports.erp):
        direct = httpx.get(f"http://127.0.0.1:{port}/api/crm/companies" if port == stack.ports.crm
                           else f"http://127.0.0.1:{port}/api/erp/projects")
        assert direct.status_code == 401
    assert admin.ok("GET", "/api/auth/me")["role"] == "admin"


def test_wrong_password_is_refused(stack: Stack) -> None:
    response = httpx.post(f"http://127.0.0.1:{stack.ports.gateway}/api/auth/token",
                          data={"username": "admin@example.com", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["title"] == "Not authenticated"


def test_health_aggregates_and_services_report_components(stack: Stack) -> None:
    health = httpx.get(f"http://127.0.0.1:{stack.ports.gateway}/health").json()
    assert health["status"] == "ready"
    assert set(health["services"]) == {"crm", "erp", "crm-worker", "erp-worker", "gateway-worker"}
    # The gateway's relay (its users' events): database, broker and its outbox, no consumer.
    relay = httpx.get(f"http://127.0.0.1:{stack.ports.gateway_worker}/health/ready").json()
    assert set(relay["components"]) == {"database", "broker", "outbox"}
    worker = httpx.get(f"http://127.0.0.1:{stack.ports.erp_worker}/health/ready").json()
    assert set(worker["components"]) == {"database", "broker", "outbox", "consumer", "mail"}
    assert worker["components"]["consumer"]["assigned_partitions"] > 0
    live = httpx.get(f"http://127.0.0.1:{stack.ports.crm}/health/live")
    assert live.json() == {"status": "live"}
    metrics = httpx.get(f"http://127.0.0.1:{stack.ports.erp_worker}/metrics").text
    assert "events_consumed_total" in metrics


def test_bad_input_gets_a_problem_response(admin: Api) -> None:
    company = admin.new_company()
    cases = [
        {"title": "x", "company_id": company["id"], "amount": "-1", "currency": "EUR"},
        {"title": "x", "company_id": company["id"], "amount": "10.001", "currency": "EUR"},
        {"title": "x", "company_id": company["id"], "amount": "10", "currency": "XYZ"},
        {"title": "x", "company_id": company["id"], "amount": 10.5, "currency": "EUR",
         "billing": {"type": "milestones", "milestones": [{"name": "a", "percent": "50"}]}},
    ]
    for body in cases:
        response = admin.post("/api/crm/deals", json=body)
        assert response.status_code == 422, body
        problem = response.json()
        assert problem["status"] == 422 and problem["detail"], problem
        assert "Traceback" not in response.text
    malformed = admin.post("/api/crm/companies", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422
    deal = admin.new_deal(company["id"])  # no billing terms
    refused = admin.post(f"/api/crm/deals/{deal['id']}/win")
    assert refused.status_code == 422
    assert "Billing terms are required" in refused.json()["detail"]
    assert admin.ok("GET", f"/api/crm/deals/{deal['id']}")["status"] == "open"  # nothing half-written
    unknown_stage = admin.post(f"/api/crm/deals/{deal['id']}/stage",
                               json={"stage_id": "00000000-0000-4000-8000-000000000999"})
    assert unknown_stage.status_code == 422


def test_values_the_database_refuses_are_the_clients_to_fix(stack: Stack, admin: Api) -> None:
    # Straight to the CRM: the gateway refuses NUL bytes itself, the service must too (not with a 500).
    response = httpx.post(f"http://127.0.0.1:{stack.ports.crm}/api/crm/companies",
                          json={"name": "Nul\u0000Studio"}, headers={"Authorization": f"Bearer {admin.token}"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text
