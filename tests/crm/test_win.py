"""Winning a deal: what the win loads with the deal in one statement (company, contact, current and won stage,
whether rules fire) ends up right in the stage history, in deal.stage_changed and in deal.won, and the rules a
win fires run in the documented order (stage-entered rules before deal.won is recorded, deal_won rules after)."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import event, func, select

from crm.db import utcnow
from crm.deals.models import WON, DealStageChange
from crm.deals.repository import DealRepository
from devstack.stack import Stack
from tests.crm.helpers import suffix
from tests.support import Api, fixed_terms
from throughline_messaging.db import new_engine, new_session_factory


def _events(stack: Stack, deal_id: str) -> list[dict[str, Any]]:
    """The deal's envelopes in the CRM outbox, in order."""
    assert stack.postgres is not None
    out = stack.postgres.psql("crm", "SELECT convert_from(value, 'UTF8') FROM outbox "
                                     f"WHERE message_key = '{deal_id}' ORDER BY id")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _pipeline(api: Api) -> dict[str, Any]:
    pipeline: dict[str, Any] = api.ok("POST", "/api/crm/pipelines", 201, json={
        "name": f"Win path {suffix()}", "stages": [
            {"name": "Talking", "probability": "30"},
            {"name": "Signed", "probability": "100", "kind": "won"},
            {"name": "Gone", "probability": "0", "kind": "lost"}]})
    return pipeline


def test_win_events_carry_company_contact_and_stage_names(sales: Api, stack: Stack) -> None:
    pipeline = _pipeline(sales)
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

    events = _events(stack, deal["id"])
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
    assert len(_events(stack, deal["id"])) == 3


def test_win_without_a_contact_or_with_a_deleted_one_sends_none(sales: Api, stack: Stack) -> None:
    company = sales.new_company()
    plain = sales.new_deal(company["id"], billing=fixed_terms(1))
    sales.ok("POST", f"/api/crm/deals/{plain['id']}/win")
    assert _events(stack, plain["id"])[-1]["data"]["contact"] is None

    contact = sales.ok("POST", "/api/crm/contacts", 201, json={"first_name": "Gone", "company_id": company["id"]})
    deal = sales.new_deal(company["id"], billing=fixed_terms(1), contact_id=contact["id"])
    assert sales.client.delete(f"/api/crm/contacts/{contact['id']}").status_code == 204
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    assert _events(stack, deal["id"])[-1]["data"]["contact"] is None


def test_win_rules_fire_in_order_once(sales: Api, stack: Stack) -> None:
    pipeline = _pipeline(sales)
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
        assert _events(stack, deal["id"])[-1]["data"]["owner_id"] == f"closer-{s}"
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
    assert [e["event_type"] for e in _events(stack, deal["id"])] == ["deal.created", "deal.stage_changed", "deal.won"]
    history = sales.ok("GET", f"/api/crm/deals/{deal['id']}/stage-history")["items"]
    assert len(history) == 2


def test_a_win_stores_the_deal_and_its_history_row_together_also_with_new_billing_terms(
        sales: Api, stack: Stack) -> None:
    """Without rules a win writes the deal and its history row in one statement (the ORM flush skips the deal):
    what the answer shows must be what is stored, for both sets of columns a win changes."""
    assert stack.postgres is not None
    pipeline = _pipeline(sales)
    signed = pipeline["stages"][1]
    company = sales.new_company()
    plain = sales.new_deal(company["id"], billing=fixed_terms(1), pipeline_id=pipeline["id"])
    rebilled = sales.new_deal(company["id"], billing=fixed_terms(1), pipeline_id=pipeline["id"])

    won_plain = sales.ok("POST", f"/api/crm/deals/{plain['id']}/win")
    won_rebilled = sales.ok("POST", f"/api/crm/deals/{rebilled['id']}/win", json={"billing": fixed_terms(4)})

    assert won_rebilled["billing"]["installments"] == 4
    for deal, won in ((plain, won_plain), (rebilled, won_rebilled)):
        assert won["status"] == "won" and won["stage_id"] == signed["id"]
        assert sales.ok("GET", f"/api/crm/deals/{deal['id']}") == won
        history = sales.ok("GET", f"/api/crm/deals/{deal['id']}/stage-history")["items"]
        assert [h["to_stage_id"] for h in history] == [deal["stage_id"], signed["id"]]
        assert history[-1]["changed_at"] == won["stage_entered_at"] and history[-1]["changed_by"]
        assert _events(stack, deal["id"])[-1]["data"]["billing"]["installments"] == won["billing"]["installments"]
        stored = stack.postgres.psql("crm", "SELECT status, won_at = stage_entered_at, updated_at = stage_entered_at "
                                            f"FROM deals WHERE id = '{deal['id']}'")
        assert stored.strip() == "won|t|t"


async def test_writing_a_stage_move_is_one_statement_and_leaves_the_flush_nothing(sales: Api, stack: Stack) -> None:
    """The repository half of a rule-less win, in a transaction rolled back at the end: one statement writes the
    deal and its history row, and the session's flush (at commit) has nothing left to write."""
    deal = sales.new_deal(sales.new_company()["id"], billing=fixed_terms(1), pipeline_id=_pipeline(sales)["id"])
    engine = new_engine(stack.database_urls["crm"], pool_size=1)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2].split()[0]))
    try:
        async with new_session_factory(engine)() as session:
            repo = DealRepository(session)
            target = await repo.for_win(uuid.UUID(deal["id"]))
            assert target is not None and target.won_stage is not None
            loaded, now = target.deal, utcnow()
            change = DealStageChange(deal_id=loaded.id, from_stage_id=loaded.stage_id, to_stage_id=target.won_stage.id,
                                     changed_by="test", changed_at=now, seconds_in_previous_stage=1)
            loaded.stage_id, loaded.stage_entered_at, loaded.updated_at = target.won_stage.id, now, now
            loaded.status, loaded.won_at = WON, now
            statements.clear()
            await repo.write_stage_move(loaded, change)
            await session.flush()
            assert statements == ["WITH"]
            moves = select(func.count()).select_from(DealStageChange).where(DealStageChange.deal_id == loaded.id)
            assert await session.scalar(moves) == 2
            await session.refresh(loaded)
            assert (loaded.status, loaded.stage_id, loaded.won_at) == (WON, target.won_stage.id, now)
            await session.rollback()
    finally:
        await engine.dispose()
    assert sales.ok("GET", f"/api/crm/deals/{deal['id']}")["status"] == "open"
