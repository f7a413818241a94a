"""GET /api/customers/{company_id}/overview: CRM and ERP in one answer, partial with warnings when one is down."""

import uuid
from typing import Any

from devstack.stack import Stack
from tests.gateway.conftest import ExtraGateways
from tests.gateway.helpers import assert_problem, client, token_for
from tests.support import Api, fixed_terms, wait_for


def _customer(admin: Api) -> dict[str, Any]:
    company = admin.new_company()
    contact = admin.ok("POST", "/api/crm/contacts", 201,
                       json={"first_name": "Grace", "last_name": "Hopper", "company_id": company["id"],
                             "email": f"grace-{uuid.uuid4().hex[:6]}@example.com"})
    activity = admin.ok("POST", "/api/crm/activities", 201,
                        json={"kind": "note", "subject": "Kick-off call notes", "company_id": company["id"]})
    open_deal = admin.new_deal(company["id"], amount="5000.00")
    won = admin.new_deal(company["id"], amount="12000.00", billing=fixed_terms(2))
    admin.ok("POST", f"/api/crm/deals/{won['id']}/win")
    project = admin.project_of(won["id"])
    return {"company": company, "contact": contact, "activity": activity, "open_deal": open_deal, "won": won,
            "project": project}


def test_overview_joins_crm_and_erp(admin: Api) -> None:
    c = _customer(admin)
    company_id = c["company"]["id"]

    def complete() -> dict[str, Any] | None:
        view: dict[str, Any] = admin.ok("GET", f"/api/customers/{company_id}/overview")
        return view if view["projects"] else None

    view = wait_for(complete, 15, "the overview to show the project")
    assert view["partial"] is False and view["warnings"] == []
    assert view["company"]["id"] == company_id
    assert [x["id"] for x in view["contacts"]] == [c["contact"]["id"]]
    assert [d["id"] for d in view["open_deals"]] == [c["open_deal"]["id"]]
    assert [p["id"] for p in view["projects"]] == [c["project"]["id"]]
    assert view["erp_client"]["crm_company_id"] == company_id
    assert c["activity"]["id"] in [a["id"] for a in view["last_activities"]]
    assert isinstance(view["invoices"], list) and isinstance(view["balance_due"], list)


def test_overview_of_an_unknown_company_is_404(admin: Api) -> None:
    assert_problem(admin.get(f"/api/customers/{uuid.uuid4()}/overview"), 404)
    assert_problem(admin.get("/api/customers/not-a-uuid/overview"), 422)


def test_overview_is_partial_with_warnings_when_erp_is_down(admin: Api, stack: Stack,
                                                            gateways: ExtraGateways) -> None:
    company = admin.new_company()
    admin.new_deal(company["id"], amount="700.00")
    with client(gateways.degraded.url, token=token_for(stack, "viewer"), timeout=8) as c:
        response = c.get(f"/api/customers/{company['id']}/overview")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["partial"] is True
    assert view["company"]["id"] == company["id"] and len(view["open_deals"]) == 1
    assert view["projects"] is None and view["invoices"] is None and view["balance_due"] is None
    assert {w["upstream"] for w in view["warnings"]} == {"erp"}
    assert all(w["part"] and w["detail"] for w in view["warnings"])
