"""Winning a deal: what the win loads with the deal in one statement (company, contact, current and won stage,
whether rules fire) ends up right in the stage history, in deal.stage_changed and in deal.won, and the rules a
win fires run in the documented order (stage-entered rules before deal.won is recorded, deal_won rules after).
How a win that fires no rule is written (one statement) is tests/crm/test_one_statement_win.py's."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx

from devstack.stack import Stack
from tests.crm.helpers import outbox_envelopes, outbox_events, pipeline_of_its_own, suffix
from tests.support import Api, fixed_terms


def test_win_events_carry_company_contact_and_stage_names(sales: Api, stack: Stack) -> None:
    pipeline = pipeline_of_its_own(sales)
    talking, signed = pipeline["stages"][0], pipeline["stages"][1]
    company = sales.new_company()
    s = suffix()
    contact = sales.ok("POST", "/api/crm/contacts", 201, json={
        "first_name": "Grace", "last_name": f"Hopper {s}", "email": f"grace-{s}@example.com",
        "company_id": company["id"]})
    deal = sales.new_deal(company["id"], billing=fixed_terms(2), pipeline_id=pipeline["id"],
                          contact_id=contact["id"])

    won = sales.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    assert won["status"] == "won" and won["stage_id"] == signed["id"] and won["won_at"] == won["stage_entered_at"]
    assert sales.ok("GET", f"/api/crm/deals/{deal['id']}") == won  # the answer is what was stored

    events = outbox_envelopes(stack, deal["id"])
    assert [e["event_type"] for e in events] == ["deal.created", "deal.stage_changed", "deal.won"]
    moved, done = events[1]["data"], events[2]["data"]
    assert (moved["from_stage_id"], moved["from_stage_name"]) == (talking["id"], "Talking")
    assert (moved["to_stage_id"], moved["to_stage_name"], moved["probability"]) == (signed["id"], "Signed", "100.00")
    assert done["company"] == {"id": company["id"], "name": company["name"]}
    assert done["contact"] == {"id": contact["id"], "name": f"Grace Hopper {s}", "email": f"grace-{s}@example.com"}
    assert (done["title"], Decimal(done["amount"]), done["currency"]) == (deal["title"], Decimal("12000"), "EUR")
    assert done["billing"]["type"] == "fixed" and done["billing"]["installments"] == 2

    history = sales.ok("GET", f"/api/crm/deals/{deal['id']}/stage-history")["items"]
    assert [(h["from_stage_name"], h["to_stage_name"]) for h in history] == [(None, "Talking"), ("Talking", "Signed")]

    again = sales.post(f"/api/crm/deals/{deal['id']}/win")
    assert again.status_code == 409 and again.json()["status_now"] == "won"
    assert len(outbox_envelopes(stack, deal["id"])) == 3


def test_win_without_a_contact_or_with_a_deleted_one_sends_none(sales: Api, stack: Stack) -> None:
    company = sales.new_company()
    plain = sales.new_deal(company["id"], billing=fixed_terms(1))
    sales.ok("POST", f"/api/crm/deals/{plain['id']}/win")
    assert outbox_envelopes(stack, plain["id"])[-1]["data"]["contact"] is None

    contact = sales.ok("POST", "/api/crm/contacts", 201, json={"first_name": "Gone", "company_id": company["id"]})
    deal = sales.new_deal(company["id"], billing=fixed_terms(1), contact_id=contact["id"])
    assert sales.client.delete(f"/api/crm/contacts/{contact['id']}").status_code == 204
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    assert outbox_envelopes(stack, deal["id"])[-1]["data"]["contact"] is None


def test_win_rules_fire_in_order_once(sales: Api, stack: Stack) -> None:
    pipeline = pipeline_of_its_own(sales)
    signed = pipeline["stages"][1]
    s = suffix()
    on_stage = sales.ok("POST", "/api/crm/automation-rules", 201, json={
        "name": f"Signed {s}", "trigger": "stage_entered", "stage_id": signed["id"],
        "actions": [{"type": "assign_owner", "owner_id": f"closer-{s}"}]})
    on_won = sales.ok("POST", "/api/crm/automation-rules", 201, json={
        "name": f"Won {s}", "trigger": "deal_won",
        "actions": [{"type": "assign_owner", "owner_id": f"delivery-{s}"}, {"type": "log_note", "subject": "Won"}]})
    try:
        deal = sales.new_deal(sales.new_company()["id"], billing=fixed_terms(1), pipeline_id=pipeline["id"],
                              owner_id=f"seller-{s}")
        won = sales.ok("POST", f"/api/crm/deals/{deal['id']}/win")
        # The stage rule ran before deal.won was recorded, the deal_won rule after it.
        assert outbox_envelopes(stack, deal["id"])[-1]["data"]["owner_id"] == f"closer-{s}"
        assert won["owner_id"] == f"delivery-{s}"
        notes = sales.ok("GET", "/api/crm/activities", params={"deal_id": deal["id"], "kind": "note"})["items"]
        assert [n["subject"] for n in notes] == ["Won"]
        for rule in (on_stage, on_won):
            firings = sales.ok("GET", f"/api/crm/automation-rules/{rule['id']}/firings",
                               params={"record_id": deal["id"]})
            assert len(firings) == 1
    finally:
        for rule in (on_stage, on_won):
            sales.client.delete(f"/api/crm/automation-rules/{rule['id']}")


def test_concurrent_wins_of_one_deal_emit_one_deal_won(sales: Api, stack: Stack) -> None:
    deal = sales.new_deal(sales.new_company()["id"], billing=fixed_terms(1))
    token = sales.token

    def win(_: int) -> int:
        with httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.crm}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            return client.post(f"/api/crm/deals/{deal['id']}/win").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(win, range(8)))
    assert statuses == [200] + [409] * 7  # the locked load makes the others wait, then see a won deal
    assert outbox_events(stack, deal["id"]) == ["deal.created", "deal.stage_changed", "deal.won"]
    history = sales.ok("GET", f"/api/crm/deals/{deal['id']}/stage-history")["items"]
    assert len(history) == 2
