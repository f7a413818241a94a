"""The lead-to-cash story through the gateway: a new lead is converted with a deal, the deal is won, the ERP
has the project and its schedule, and the ERP's project.created comes back onto the CRM timeline."""

from typing import Any

from tests.crm.helpers import suffix
from tests.support import Api, wait_for


def test_lead_to_won_deal_to_erp_project_through_the_gateway(admin: Api) -> None:
    s = suffix()
    lead = admin.ok("POST", "/api/crm/leads", 201, json={
        "first_name": "Nia", "last_name": f"Story {s}", "email": f"nia@story-{s}.example",
        "company_name": f"Story Studio {s}", "company_domain": f"story-{s}.example", "company_size": 25,
        "source": "referral"})
    assert lead["score"] > 0 and lead["status"] == "new"
    admin.ok("PATCH", f"/api/crm/leads/{lead['id']}", json={"status": "qualified"})
    billing = {"type": "retainer", "amount": "2000.00", "interval": "month", "count": 6, "start_date": "2027-01-01"}
    converted = admin.ok("POST", f"/api/crm/leads/{lead['id']}/convert", json={
        "deal": {"title": f"Retainer {s}", "amount": "12000.00", "currency": "EUR", "billing": billing}})
    deal_id = converted["deal_id"]
    assert deal_id and converted["company_id"] and converted["contact_id"]

    admin.ok("POST", f"/api/crm/deals/{deal_id}/stage", json={"stage_id": "00000000-0000-4000-8000-000000000104"})
    won = admin.ok("POST", f"/api/crm/deals/{deal_id}/win")
    assert won["status"] == "won" and won["won_at"]

    project = admin.project_of(deal_id)
    assert project["deal_id"] == deal_id and project["name"] == f"Retainer {s}"
    schedule = admin.ok("GET", f"/api/erp/projects/{project['id']}/billing-schedule")
    assert [item["amount"] for item in schedule["items"]] == ["2000.00"] * 6
    assert admin.ok("GET", f"/api/crm/leads/{lead['id']}")["status"] == "converted"


def test_erp_project_created_reaches_the_crm_timeline(admin: Api) -> None:
    """The way back (DESIGN §2): the ERP's project.created is consumed onto the company and deal timelines."""
    company = admin.new_company()
    deal = admin.new_deal(company["id"], billing={"type": "fixed", "installments": 2, "start_date": "2027-01-01"})
    admin.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    converted = {"company_id": company["id"]}

    def on_timeline() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = admin.ok("GET", f"/api/crm/companies/{converted['company_id']}/timeline")["items"]
        return items if any(i["kind"] == "project.created" for i in items) else None

    items = wait_for(on_timeline, 30, "the ERP's project.created on the CRM company timeline")
    assert items[0]["kind"] == "project.created"  # newest first
    assert {"stage_change", "project.created"} <= {i["kind"] for i in items}
    deal_items = admin.ok("GET", f"/api/crm/deals/{deal['id']}/timeline")["items"]
    assert any(i["kind"] == "project.created" and i["type"] == "erp_fact" for i in deal_items)
