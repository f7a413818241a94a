"""Activities linked to records; one timeline per company/contact/deal with activities, stage changes and
ERP facts, newest first."""

from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.stack import Stack
from tests.crm.helpers import add_erp_fact, suffix
from tests.support import Api

QUALIFIED = "00000000-0000-4000-8000-000000000102"
PROPOSAL = "00000000-0000-4000-8000-000000000103"


def _activity(api: Api, **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.ok("POST", "/api/crm/activities", 201, json={"subject": "Touch", **body})
    return result


def test_activities_are_linked_validated_and_listed(sales: Api, viewer: Api) -> None:
    company = sales.new_company()
    contact = sales.ok("POST", "/api/crm/contacts", 201, json={"first_name": "Lin", "company_id": company["id"],
                                                                "email": f"lin-{suffix()}@x.example"})
    deal = sales.new_deal(company["id"], contact_id=contact["id"])
    call = _activity(sales, kind="call", direction="outbound", deal_id=deal["id"], body="Discussed scope")
    assert call["company_id"] == company["id"] and call["contact_id"] == contact["id"]  # filled in from the deal
    assert call["created_by"] == "sales-1"
    email = _activity(sales, kind="email", direction="inbound", contact_id=contact["id"])
    assert email["company_id"] == company["id"]
    listed = sales.ok("GET", "/api/crm/activities", params={"company_id": company["id"]})
    assert [a["id"] for a in listed["items"]] == [email["id"], call["id"]] and listed["total"] == 2
    assert sales.ok("GET", "/api/crm/activities", params={"deal_id": deal["id"], "kind": "call"})["total"] == 1
    assert sales.ok("GET", f"/api/crm/deals/{deal['id']}")["last_activity_at"] is not None

    bad = [
        {"kind": "call", "subject": "x"},  # not linked
        {"kind": "fax", "subject": "x", "company_id": company["id"]},
        {"kind": "note", "subject": "x", "direction": "inbound", "company_id": company["id"]},
        {"kind": "call", "subject": "x", "deal_id": "00000000-0000-4000-8000-00000000dead"},
        {"kind": "call", "subject": "x", "company_id": company["id"], "occurred_at": "2026-11-01T10:00:00"},
        {"kind": "call", "subject": "", "company_id": company["id"]},
    ]
    for body in bad:
        response = sales.post("/api/crm/activities", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    assert viewer.post("/api/crm/activities", json={"kind": "note", "subject": "x",
                                                    "company_id": company["id"]}).status_code == 403
    assert sales.ok("GET", "/api/crm/activities", params={"company_id": company["id"]})["total"] == 2


def test_timelines_merge_activities_stage_changes_and_erp_facts_newest_first(sales: Api, stack: Stack) -> None:
    company = sales.new_company()
    contact = sales.ok("POST", "/api/crm/contacts", 201, json={"first_name": "Max", "company_id": company["id"],
                                                                "email": f"max-{suffix()}@x.example"})
    deal = sales.new_deal(company["id"], contact_id=contact["id"])
    earlier = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    old_note = _activity(sales, kind="note", company_id=company["id"], occurred_at=earlier, subject="Old note")
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": QUALIFIED})
    meeting = _activity(sales, kind="meeting", deal_id=deal["id"], subject="Kick-off")
    # Not won: a real project.created from the ERP would land on the timeline while this test pages through it.
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": PROPOSAL})
    # What the CRM consumer writes when the ERP reports project.created (the real flow from the ERP is
    # exercised by the lead-to-cash story); written here directly so this test checks only the timeline.
    add_erp_fact(stack, "project.created", company["id"], deal["id"], "Project created in the ERP")

    deal_items = sales.ok("GET", f"/api/crm/deals/{deal['id']}/timeline")["items"]
    times = [i["occurred_at"] for i in deal_items]
    assert times == sorted(times, reverse=True)
    kinds = [i["kind"] for i in deal_items]
    assert kinds[-1] == "stage_change" and deal_items[-1]["summary"].endswith("opened in Lead in")
    assert "meeting" in kinds and kinds.count("stage_change") == 3  # opened, qualified, proposal
    assert {i["type"] for i in deal_items} == {"activity", "stage_change", "erp_fact"}
    moved = next(i for i in deal_items if i["kind"] == "stage_change" and i["data"]["to_stage_name"] == "Proposal")
    assert moved["data"]["from_stage_name"] == "Qualified" and moved["data"]["changed_by"] == "sales-1"

    company_items = sales.ok("GET", f"/api/crm/companies/{company['id']}/timeline")
    ids = [i["id"] for i in company_items["items"]]
    assert ids[-1] == old_note["id"]  # the oldest last
    assert meeting["id"] in ids and any(i["kind"] == "project.created" for i in company_items["items"])
    assert company_items["total"] == len(ids)
    page = sales.ok("GET", f"/api/crm/companies/{company['id']}/timeline", params={"limit": 2, "offset": 1})
    assert [i["id"] for i in page["items"]] == ids[1:3]

    contact_items = sales.ok("GET", f"/api/crm/contacts/{contact['id']}/timeline")["items"]
    assert meeting["id"] in [i["id"] for i in contact_items]
    assert old_note["id"] not in [i["id"] for i in contact_items]  # a company note is not the contact's
    assert sales.get("/api/crm/deals/00000000-0000-4000-8000-00000000dead/timeline").status_code == 404
