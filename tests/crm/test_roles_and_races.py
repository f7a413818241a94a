"""The CRM's role policy (everyone reads, sales writes) and the rules that must hold under concurrent calls."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from devstack.stack import Stack
from tests.crm.helpers import age_deal, as_role, crm_direct, new_lead, suffix, token_for
from tests.support import Api

READS = ["/api/crm/companies", "/api/crm/contacts", "/api/crm/leads", "/api/crm/deals", "/api/crm/pipelines",
         "/api/crm/activities", "/api/crm/tasks", "/api/crm/reports/forecast", "/api/crm/automation-rules",
         "/api/crm/assignment-rules", "/api/crm/export/companies"]


def test_a_member_has_no_crm_action(stack: Stack) -> None:
    """Staff see their own work in the ERP; the pipeline, deal amounts and the forecast are not theirs (decision
    113)."""
    with as_role(stack, "member") as api:
        for path in READS:
            assert api.get(path).status_code == 403, path
        assert api.post("/api/crm/companies", json={"name": f"Role member {suffix()}"}).status_code == 403
        # Its policy table still answers: the web app learns from it that a member may do nothing here.
        assert api.get("/api/crm/policy").status_code == 200


def test_every_role_reads_only_sales_and_admin_write(stack: Stack) -> None:
    for role in ("admin", "sales", "finance", "project_manager", "viewer"):
        with as_role(stack, role) as api:
            for path in READS:
                assert api.get(path).status_code == 200, (role, path)
            created = api.post("/api/crm/companies", json={"name": f"Role {role} {suffix()}"})
            lead = api.post("/api/crm/leads", json={"first_name": "R", "email": f"r-{suffix()}@x.example"})
            if role in ("admin", "sales"):
                assert created.status_code == 201 and lead.status_code == 201, role
            else:
                assert created.status_code == 403 and lead.status_code == 403, role
                assert created.json()["detail"] == \
                    "This action (crm.companies.write) needs one of the roles: admin, sales."
                assert lead.json()["action"] == "crm.leads.write"
    with crm_direct(stack) as anonymous:
        assert anonymous.get("/api/crm/deals").status_code == 401


def test_gateway_api_key_tokens_may_capture_leads(stack: Stack, sales: Api) -> None:
    token = token_for(stack, "sales", user_id="website-form", kind="api_key")
    with crm_direct(stack) as crm:
        response = crm.post("/api/crm/lead-capture", headers={"Authorization": f"Bearer {token}"},
                            json={"first_name": "Form", "email": f"form-{suffix()}@site.example"})
    assert response.status_code == 202
    assert sales.ok("GET", f"/api/crm/leads/{response.json()['id']}")["source"] == "website"


def test_concurrent_conversions_create_one_company_and_one_deal(stack: Stack, sales: Api) -> None:
    s = suffix()
    lead = new_lead(sales, company_domain=f"race-{s}.example")
    token = sales.token

    def convert(_: int) -> dict[str, Any]:
        with httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.crm}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            response = client.post(f"/api/crm/leads/{lead['id']}/convert",
                                   json={"deal": {"amount": "100.00", "currency": "EUR"}})
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(convert, range(6)))
    assert len({(r["company_id"], r["deal_id"]) for r in results}) == 1
    assert sorted(r["already_converted"] for r in results) == [False] + [True] * 5
    assert sales.ok("GET", "/api/crm/companies", params={"q": f"race-{s}"})["total"] == 1
    assert sales.ok("GET", "/api/crm/deals", params={"company_id": results[0]["company_id"]})["total"] == 1


def test_concurrent_automation_runs_fire_once(stack: Stack, sales: Api) -> None:
    company = sales.new_company()
    deal = sales.new_deal(company["id"])
    age_deal(stack, deal["id"], 30)
    rule = sales.ok("POST", "/api/crm/automation-rules", 201, json={
        "name": f"Race {suffix()}", "trigger": "deal_idle", "idle_days": 20,
        "actions": [{"type": "create_task", "title": "Wake {title}"}]})
    token = sales.token
    try:
        def run(_: int) -> int:
            with httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.crm}", timeout=30,
                              headers={"Authorization": f"Bearer {token}"}) as client:
                response = client.post("/api/crm/automation-runs")
                assert response.status_code == 200, response.text
                return int(response.json()["fired"])

        with ThreadPoolExecutor(5) as pool:
            list(pool.map(run, range(5)))
        assert sales.ok("GET", "/api/crm/tasks", params={"deal_id": deal["id"]})["total"] == 1
        assert len(sales.ok("GET", f"/api/crm/automation-rules/{rule['id']}/firings",
                            params={"record_id": deal["id"]})) == 1
    finally:
        sales.client.delete(f"/api/crm/automation-rules/{rule['id']}")
