"""Leads: capture (API and public form), validation, status, owner, assignment rules, explained score,
conversion in one transaction, idempotent conversion."""

from typing import Any

from devstack.stack import Stack
from tests.crm.helpers import CAPTURE_KEY, RATE_LIMITED_KEY, crm_direct, new_lead, outbox_events, suffix, token_for
from tests.support import Api, fixed_terms


def _reasons(lead: dict[str, Any]) -> dict[str, int]:
    return {r["factor"]: r["points"] for r in lead["score_reasons"]}


def test_score_is_explained_and_grows_with_engagement(sales: Api) -> None:
    s = suffix()
    lead = new_lead(sales, source="referral", company_size=120, phone="+49 30 555",
                    email=f"cto@firm-{s}.example", message="We need a new website and a shop by spring.")
    reasons = _reasons(lead)
    assert reasons == {"source": 30, "company_size": 20, "email": 10, "phone": 5, "message": 5, "engagement": 0}
    assert lead["score"] == 70
    assert all(r["reason"] for r in lead["score_reasons"])
    cold = new_lead(sales, source="cold_outreach", email=f"someone-{s}@gmail.com")
    assert _reasons(cold)["email"] == 0 and cold["score"] < lead["score"]

    for _ in range(2):
        sales.ok("POST", "/api/crm/activities", 201, json={"kind": "call", "subject": "Intro call",
                                                           "lead_id": cold["id"], "direction": "outbound"})
    engaged = sales.ok("GET", f"/api/crm/leads/{cold['id']}")
    assert _reasons(engaged)["engagement"] == 10
    assert engaged["score"] == cold["score"] + 10


def test_status_owner_filters_and_validation(sales: Api, viewer: Api) -> None:
    lead = new_lead(sales, owner_id="alice")
    assert lead["status"] == "new" and lead["owner_id"] == "alice"
    contacted = sales.ok("PATCH", f"/api/crm/leads/{lead['id']}", json={"status": "contacted", "owner_id": "bob"})
    assert contacted["status"] == "contacted" and contacted["owner_id"] == "bob"
    no_reason = sales.client.patch(f"/api/crm/leads/{lead['id']}", json={"status": "disqualified"})
    assert no_reason.status_code == 422 and "disqualified_reason" in no_reason.json()["detail"]
    out = sales.ok("PATCH", f"/api/crm/leads/{lead['id']}", json={"status": "disqualified",
                                                                  "disqualified_reason": "no budget"})
    assert out["status"] == "disqualified"
    refused = sales.post(f"/api/crm/leads/{lead['id']}/convert")
    assert refused.status_code == 409
    listed = sales.ok("GET", "/api/crm/leads", params={"owner_id": "bob", "status": "disqualified"})
    assert lead["id"] in [item["id"] for item in listed["items"]]
    cannot_convert_by_patch = sales.client.patch(f"/api/crm/leads/{lead['id']}", json={"status": "converted"})
    assert cannot_convert_by_patch.status_code == 422

    for body in ({"first_name": "No contact"}, {"email": "a@b.example"},
                 {"first_name": "X", "email": "x@y.example", "source": "carrier-pigeon"},
                 {"first_name": "X", "email": "x@y.example", "company_size": -3}):
        response = sales.post("/api/crm/leads", json=body)
        assert response.status_code == 422, body
    assert viewer.post("/api/crm/leads", json={"first_name": "X", "email": "x@y.example"}).status_code == 403


def test_assignment_rules_by_source_then_round_robin(sales: Api) -> None:
    s = suffix()
    by_source = sales.ok("POST", "/api/crm/assignment-rules", 201, json={
        "name": f"events {s}", "strategy": "by_source", "source": "event", "owner_ids": ["erin"], "position": 1})
    robin = sales.ok("POST", "/api/crm/assignment-rules", 201, json={
        "name": f"everyone {s}", "strategy": "round_robin", "owner_ids": ["rob", "rita"], "position": 2})
    try:
        owners = [new_lead(sales, source="website")["owner_id"] for _ in range(4)]
        assert sorted(owners[:2]) == ["rita", "rob"] and owners[:2] == owners[2:]  # takes turns
        assert new_lead(sales, source="event")["owner_id"] == "erin"
        assert new_lead(sales, source="website", owner_id="chosen")["owner_id"] == "chosen"  # explicit wins
        bad = sales.post("/api/crm/assignment-rules", json={"name": "x", "strategy": "by_source", "owner_ids": ["a"]})
        assert bad.status_code == 422
    finally:
        for rule in (by_source, robin):
            assert sales.client.delete(f"/api/crm/assignment-rules/{rule['id']}").status_code == 204


def test_conversion_creates_company_contact_and_deal_in_one_go_and_is_idempotent(sales: Api, stack: Stack) -> None:
    s = suffix()
    lead = new_lead(sales, company_domain=f"convert-{s}.example", company_size=30, phone="+44 20 7946 0000")
    body = {"deal": {"amount": "15000.00", "currency": "GBP", "billing": fixed_terms(3),
                     "expected_close_date": "2027-01-31"}}
    first = sales.ok("POST", f"/api/crm/leads/{lead['id']}/convert", json=body)
    assert first["already_converted"] is False
    assert first["lead"]["status"] == "converted"
    company = sales.ok("GET", f"/api/crm/companies/{first['company_id']}")
    assert company["name"] == lead["company_name"] and company["domain"] == f"convert-{s}.example"
    assert company["size"] == 30
    contact = sales.ok("GET", f"/api/crm/contacts/{first['contact_id']}")
    assert contact["email"] == lead["email"] and contact["company_id"] == company["id"]
    deal = sales.ok("GET", f"/api/crm/deals/{first['deal_id']}")
    assert deal["company_id"] == company["id"] and deal["contact_id"] == contact["id"]
    assert deal["amount"] == "15000.00" and deal["currency"] == "GBP" and deal["status"] == "open"

    again = sales.ok("POST", f"/api/crm/leads/{lead['id']}/convert", json=body)
    assert again["already_converted"] is True
    assert (again["company_id"], again["contact_id"], again["deal_id"]) == (
        first["company_id"], first["contact_id"], first["deal_id"])
    assert sales.ok("GET", "/api/crm/deals", params={"company_id": company["id"]})["total"] == 1
    assert outbox_events(stack, lead["id"]) == ["lead.created", "lead.converted"]
    assert outbox_events(stack, company["id"]) == ["company.created"]
    assert outbox_events(stack, deal["id"]) == ["deal.created"]
    assert sales.client.patch(f"/api/crm/leads/{lead['id']}", json={"status": "new"}).status_code == 409


def test_conversion_reuses_known_company_and_contact(sales: Api) -> None:
    s = suffix()
    company = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Known {s}", "domain": f"known-{s}.example"})
    contact = sales.ok("POST", "/api/crm/contacts", 201, json={"first_name": "Kim", "email": f"kim@known-{s}.example",
                                                                "company_id": company["id"]})
    lead = new_lead(sales, email=f"kim@known-{s}.example", company_domain=f"known-{s}.example")
    result = sales.ok("POST", f"/api/crm/leads/{lead['id']}/convert")
    assert result["company_id"] == company["id"] and result["contact_id"] == contact["id"]
    assert result["deal_id"] is None


def test_failed_conversion_writes_nothing(sales: Api) -> None:
    s = suffix()
    lead = new_lead(sales, company_domain=f"atomic-{s}.example")
    bad = sales.post(f"/api/crm/leads/{lead['id']}/convert", json={
        "deal": {"amount": "100.00", "currency": "EUR", "stage_id": "00000000-0000-4000-8000-000000000105"}})
    assert bad.status_code == 422  # a deal cannot start in the won stage
    assert sales.ok("GET", f"/api/crm/leads/{lead['id']}")["status"] == "new"
    assert sales.ok("GET", "/api/crm/companies", params={"q": f"atomic-{s}"})["total"] == 0
    bad_money = sales.post(f"/api/crm/leads/{lead['id']}/convert", json={"deal": {"amount": "-5", "currency": "EUR"}})
    assert bad_money.status_code == 422


def test_public_capture_needs_a_key_validates_and_is_rate_limited(stack: Stack, sales: Api) -> None:
    s = suffix()
    form = {"first_name": "Web", "last_name": f"Visitor {s}", "email": f"visitor-{s}@shop-{s}.example",
            "company_name": f"Shop {s}", "message": "Please call me about a redesign."}
    with crm_direct(stack) as crm:
        assert crm.post("/api/crm/lead-capture", json=form).status_code == 401
        assert crm.post("/api/crm/lead-capture", json=form, headers={"X-API-Key": "wrong"}).status_code == 401
        viewer_token = token_for(stack, "viewer")
        assert crm.post("/api/crm/lead-capture", json=form,
                        headers={"Authorization": f"Bearer {viewer_token}"}).status_code == 401
        accepted = crm.post("/api/crm/lead-capture", json=form, headers={"X-API-Key": CAPTURE_KEY})
        assert accepted.status_code == 202, accepted.text
        lead = sales.ok("GET", f"/api/crm/leads/{accepted.json()['id']}")
        assert lead["source"] == "website" and lead["status"] == "new" and lead["email"] == form["email"]

        for bad in ({**form, "email": "nope"}, {**form, "owner_id": "me"}, {**form, "message": "x" * 6000},
                    {k: v for k, v in form.items() if k != "email"}):
            response = crm.post("/api/crm/lead-capture", json=bad, headers={"X-API-Key": CAPTURE_KEY})
            assert response.status_code == 422, bad

        statuses: list[int] = []
        while len(statuses) < 300 and 429 not in statuses:  # 30 a minute: the bucket runs dry quickly
            statuses.append(crm.post("/api/crm/lead-capture", json={**form, "email": f"r{len(statuses)}-{s}@r.example"},
                                     headers={"X-API-Key": RATE_LIMITED_KEY}).status_code)
        assert statuses[0] == 202 and set(statuses[:-1]) == {202}
        assert statuses[-1] == 429 and len(statuses) > 30
        limited = crm.post("/api/crm/lead-capture", json=form, headers={"X-API-Key": RATE_LIMITED_KEY})
        assert limited.status_code == 429 and limited.json()["retry_after"] >= 1
        # Another key has its own budget.
        assert crm.post("/api/crm/lead-capture", json={**form, "email": f"other-{s}@ok.example"},
                        headers={"X-API-Key": CAPTURE_KEY}).status_code == 202
