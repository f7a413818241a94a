"""Winning a deal: what the win loads with the deal in one statement (company, contact, current and won stage,
whether rules fire) ends up right in the stage history, in deal.stage_changed and in deal.won, and the rules a
win fires run in the documented order (stage-entered rules before deal.won is recorded, deal_won rules after)."""

import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
from asyncpg.transaction import Transaction
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from crm.db import outbox
from crm.deals import service
from crm.deals.models import Deal, DealStatus
from devstack.stack import Stack
from tests.crm.helpers import suffix
from tests.support import Api, fixed_terms
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.db import new_engine, new_session_factory


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


class _TracedUnitsOfWork:
    """Units of work on a one-connection engine of their own that log, in order, each statement SQLAlchemy executes
    (its first word), each BEGIN, COMMIT and ROLLBACK asyncpg sends, and each pass of the ORM's flush ("flush",
    SQL or not); optionally running `before_write(sql)` just before each statement."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch,
                 before_write: Callable[[str], None] | None = None) -> None:
        self.engine = new_engine(stack.database_urls["crm"], pool_size=1)
        self.sent: list[str] = []
        for method in ("start", "commit", "rollback"):
            self._log_transaction(monkeypatch, method)

        def log_statement(sql: str) -> None:
            if before_write is not None:
                before_write(sql)
            self.sent.append(sql.split()[0])

        event.listen(self.engine.sync_engine, "before_cursor_execute", lambda *args: log_statement(args[2]))
        self.sessions = new_session_factory(self.engine)
        self._log_flush = lambda *_: self.sent.append("flush")
        event.listen(Session, "before_flush", self._log_flush)

    def _log_transaction(self, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
        sent = getattr(Transaction, method)
        word = {"start": "BEGIN", "commit": "COMMIT", "rollback": "ROLLBACK"}[method]

        async def logged(transaction: Transaction) -> None:
            self.sent.append(word)
            await sent(transaction)

        monkeypatch.setattr(Transaction, method, logged)

    async def connect(self) -> None:
        """Open the engine's connection (SQLAlchemy's first-connect queries) before logging counts."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        self.sent.clear()

    def new(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, OutboxWriter("crm", outbox, notify_channel="outbox_crm"))

    async def win(self, deal_id: str) -> Deal:
        """Win the deal in one unit of work, logging from its first statement; then close the engine."""
        try:
            await self.connect()
            async with self.new() as uow:
                return await service.win_deal(uow, uuid.UUID(deal_id), None, PRINCIPAL)
        finally:
            event.remove(Session, "before_flush", self._log_flush)
            await self.engine.dispose()


def _open_deal(sales: Api) -> dict[str, Any]:
    """An open deal with billing terms in a pipeline of its own (so no automation rule fires on its win)."""
    return sales.new_deal(sales.new_company()["id"], billing=fixed_terms(1), pipeline_id=_pipeline(sales)["id"])


PRINCIPAL = Principal(user_id="u-test", email="test@example.com", role="sales", token="")


async def test_a_rule_less_win_is_a_read_and_one_write_without_begin_or_commit(sales: Api, stack: Stack,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """No rule fires: the deal is read without a transaction, then the deal, its history row and its events are
    written by one statement. What that statement wrote is the whole win."""
    deal = _open_deal(sales)
    traced = _TracedUnitsOfWork(stack, monkeypatch)
    won = await traced.win(deal["id"])
    assert traced.sent == ["SELECT", "WITH"]
    assert won.status == DealStatus.WON
    assert sales.ok("GET", f"/api/crm/deals/{deal['id']}")["status"] == "won"
    assert [e["event_type"] for e in _events(stack, deal["id"])] == ["deal.created", "deal.stage_changed", "deal.won"]
    assert len(sales.ok("GET", f"/api/crm/deals/{deal['id']}/stage-history")["items"]) == 2


async def test_a_deal_changed_between_read_and_write_is_won_again_under_the_lock(
        sales: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone renames the deal after the win read it and before it writes: the write applies to nothing, and the
    win is done again in a transaction on the locked deal, so deal.won carries the new title, once."""
    assert stack.postgres is not None
    postgres = stack.postgres
    deal = _open_deal(sales)
    renamed: list[str] = []

    def rename_before_the_first_write(sql: str) -> None:
        if sql.startswith("WITH") and not renamed:
            renamed.append(f"Renamed {suffix()}")
            postgres.psql("crm", f"UPDATE deals SET title = '{renamed[0]}', updated_at = now() "
                                 f"WHERE id = '{deal['id']}'")

    traced = _TracedUnitsOfWork(stack, monkeypatch, before_write=rename_before_the_first_write)
    won = await traced.win(deal["id"])
    # The second SELECT is logged before the BEGIN that asyncpg sends ahead of it.
    assert traced.sent == ["SELECT", "WITH", "SELECT", "BEGIN", "WITH", "flush", "COMMIT"]
    assert won.status == DealStatus.WON and won.title == renamed[0]
    events = _events(stack, deal["id"])
    assert [e["event_type"] for e in events] == ["deal.created", "deal.stage_changed", "deal.won"]
    assert events[-1]["data"]["title"] == renamed[0]
    assert len(sales.ok("GET", f"/api/crm/deals/{deal['id']}/stage-history")["items"]) == 2
