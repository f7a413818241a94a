"""The one-statement win (crm/deals/one_statement_win.py) writes what the plain win writes.

Pairs of twin deals (same pipeline, stage, company, contact, title, amount, billing terms) are won on the real
PostgreSQL of the test stack, one through the fast path (`win_deal`, which takes it when no rule fires) and one
through the plain path (`win_deal(..., one_statement=False)`: the locked deal, the ORM's flush, the unit of work's
outbox INSERT). Then the stored deal, its stage history row, its outbox rows (envelope and payload) and its
automation firings must be the same, once the ids and timestamps that must differ are named instead of compared.
Twice: without and with new billing terms in the win (the fast path builds one statement for each).

Beside it: what the fast path sends (a read, then one statement, no BEGIN or COMMIT), that a deal changed between
its read and its write is won again under the lock, and that the answer is what is stored."""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asyncpg.transaction import Transaction
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from crm.db import outbox
from crm.deals import service
from crm.deals.models import Deal, DealStatus
from crm.deals.one_statement_win import write_win as one_statement_write
from crm.deals.schemas import DealOut, WinIn
from devstack.stack import Stack
from tests.crm.helpers import outbox_envelopes, outbox_events, pipeline_of_its_own, suffix
from tests.support import Api, fixed_terms
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.db import new_engine, new_session_factory

PRINCIPAL = Principal(user_id="u-one-statement", email="one@example.com", role="sales", token="")


@pytest.fixture
async def engine(stack: Stack) -> AsyncIterator[AsyncEngine]:
    engine = new_engine(stack.database_urls["crm"], pool_size=2)
    yield engine
    await engine.dispose()


def _twins(sales: Api) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """A pipeline of its own with rules that exist but must not fire on a win (a paused deal_won rule, one on
    entering the lost stage), and two twin deals in it."""
    s = suffix()
    pipeline = sales.ok("POST", "/api/crm/pipelines", 201, json={
        "name": f"Twin wins {s}", "stages": [
            {"name": "Talking", "probability": "30"},
            {"name": "Signed", "probability": "100", "kind": "won"},
            {"name": "Gone", "probability": "0", "kind": "lost"}]})
    rules = [
        sales.ok("POST", "/api/crm/automation-rules", 201, json={
            "name": f"Paused {s}", "trigger": "deal_won", "active": False,
            "actions": [{"type": "log_note", "subject": "must not fire"}]}),
        sales.ok("POST", "/api/crm/automation-rules", 201, json={
            "name": f"Lost {s}", "trigger": "stage_entered", "stage_id": pipeline["stages"][2]["id"],
            "actions": [{"type": "assign_owner", "owner_id": "must-not-fire"}]}),
    ]
    company = sales.new_company()
    contact = sales.ok("POST", "/api/crm/contacts", 201, json={
        "first_name": "Twin", "last_name": s, "email": f"twin-{s}@example.com", "company_id": company["id"]})
    twins = [sales.ok("POST", "/api/crm/deals", 201, json={
        "title": f"Twin {s}", "company_id": company["id"], "contact_id": contact["id"],
        "pipeline_id": pipeline["id"], "amount": "12000.00", "currency": "EUR", "owner_id": f"seller-{s}",
        "expected_close_date": "2026-12-31", "billing": fixed_terms(2)}) for _ in range(2)]
    return pipeline, rules, twins


async def _win(engine: AsyncEngine, deal_id: str, billing: WinIn | None, *, one_statement: bool) -> dict[str, Any]:
    uow = UnitOfWork(new_session_factory(engine), OutboxWriter("crm", outbox, notify_channel="outbox_crm"))
    async with uow:
        deal = await service.win_deal(uow, uuid.UUID(deal_id), billing.billing if billing else None, PRINCIPAL,
                                      one_statement=one_statement)
        answer: dict[str, Any] = DealOut.model_validate(deal).model_dump(mode="json")
    return answer


async def _stored(engine: AsyncEngine, deal_id: str) -> dict[str, Any]:
    """What the win left in the database for the deal, with its own id and times named, not compared."""
    async with engine.connect() as connection:
        deal = (await connection.execute(text(
            "SELECT *, won_at = stage_entered_at AS won_when_entered, updated_at = stage_entered_at AS "
            "updated_when_entered FROM deals WHERE id = :id"), {"id": deal_id})).mappings().one()
        history = (await connection.execute(text(
            "SELECT c.deal_id, c.from_stage_id, c.to_stage_id, c.changed_by, c.changed_at = d.stage_entered_at "
            "AS at_the_win, c.seconds_in_previous_stage = floor(extract(epoch FROM c.changed_at - d.created_at)) "
            "AS seconds_since_opened FROM deal_stage_changes c JOIN deals d ON d.id = c.deal_id "
            "WHERE c.deal_id = :id ORDER BY c.changed_at"), {"id": deal_id})).mappings().all()
        events = (await connection.execute(text(
            "SELECT event_type, topic, message_key, headers, convert_from(value, 'UTF8') AS value, published_at "
            "FROM outbox WHERE message_key = :key ORDER BY id"), {"key": deal_id})).mappings().all()
        firings = (await connection.execute(text(
            "SELECT rule_id FROM automation_firings WHERE record_id = :id ORDER BY rule_id"),
            {"id": deal_id})).scalars().all()
    names = {deal_id: "<the deal>", _iso(deal["stage_entered_at"]): "<won at>"}
    # The win's events: deal.created came from the request that opened the deal (its own times and request ids).
    assert events[0]["event_type"] == "deal.created"
    envelopes = [{**dict(e), "headers": {k: v for k, v in e["headers"].items() if k != "event_id"},
                  "value": {k: v for k, v in json.loads(e["value"]).items() if k not in ("event_id", "occurred_at")},
                  "published_at": "<whenever the relay got to it>"} for e in events[1:]]
    stored: dict[str, Any] = _named({
        "deal": {k: v for k, v in deal.items() if k not in ("id", "created_at", "updated_at", "stage_entered_at",
                                                             "won_at")},
        "history": [dict(h) for h in history],
        "events": envelopes,
        "firings": list(firings),
    }, names)
    return stored


def _iso(moment: Any) -> str:
    """A time as the events carry it (UTC with a Z)."""
    return str(moment.replace(tzinfo=None).isoformat()) + "Z"


def _named(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _named(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_named(v, names) for v in value]
    if isinstance(value, uuid.UUID):
        value = str(value)
    return names.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize("billing", [None, WinIn.model_validate({"billing": fixed_terms(4)})],
                         ids=["terms-as-stored", "new-terms-in-the-win"])
async def test_the_one_statement_win_writes_what_the_plain_win_writes(
        sales: Api, stack: Stack, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, billing: WinIn | None) -> None:
    pipeline, rules, (fast, plain) = _twins(sales)
    written: list[bool] = []

    async def write_win(*args: Any, **kwargs: Any) -> bool:
        done = await one_statement_write(*args, **kwargs)
        written.append(done)
        return done

    monkeypatch.setattr(service, "write_win", write_win)
    try:
        fast_answer = await _win(engine, fast["id"], billing, one_statement=True)
        assert written == [True], "the fast win did not go through the one statement"
        plain_answer = await _win(engine, plain["id"], billing, one_statement=False)
        assert written == [True], "the plain win went through the one statement"

        stored_fast, stored_plain = await _stored(engine, fast["id"]), await _stored(engine, plain["id"])
        assert stored_fast == stored_plain
        # What the comparison covers, so that it cannot pass by comparing two empty sets.
        assert stored_fast["deal"]["status"] == "won" and stored_fast["deal"]["won_when_entered"] is True
        assert stored_fast["deal"]["updated_when_entered"] is True
        assert stored_fast["deal"]["billing_terms"]["installments"] == (2 if billing is None else 4)
        assert [h["to_stage_id"] for h in stored_fast["history"]] == [s["id"] for s in pipeline["stages"][:2]]
        assert stored_fast["history"][1]["at_the_win"] is True
        assert stored_fast["history"][1]["seconds_since_opened"] is True
        assert [e["event_type"] for e in stored_fast["events"]] == ["deal.stage_changed", "deal.won"]
        assert stored_fast["events"][0]["value"]["data"]["changed_at"] == "<won at>"
        assert stored_fast["events"][1]["value"]["data"]["won_at"] == "<won at>"
        assert stored_fast["events"][1]["value"]["data"]["contact"]["name"].startswith("Twin ")
        assert stored_fast["firings"] == []

        # The answers match each other and what is stored.
        names = {fast["id"]: "<the deal>", plain["id"]: "<the deal>"}
        moments = ("created_at", "updated_at", "stage_entered_at", "won_at")
        assert _named({k: v for k, v in fast_answer.items() if k not in moments}, names) == \
            _named({k: v for k, v in plain_answer.items() if k not in moments}, names)
        for answer in (fast_answer, plain_answer):
            assert answer == sales.ok("GET", f"/api/crm/deals/{answer['id']}")
    finally:
        for rule in rules:
            sales.client.delete(f"/api/crm/automation-rules/{rule['id']}")


def test_a_win_stores_the_deal_and_its_history_row_together_also_with_new_billing_terms(
        sales: Api, stack: Stack) -> None:
    """Without rules a win writes the deal and its history row in one statement (the ORM flush skips the deal):
    what the answer shows must be what is stored, for both sets of columns a win changes."""
    assert stack.postgres is not None
    pipeline = pipeline_of_its_own(sales)
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
        won_event = outbox_envelopes(stack, deal["id"])[-1]
        assert won_event["data"]["billing"]["installments"] == won["billing"]["installments"]
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
    pipeline = pipeline_of_its_own(sales)
    return sales.new_deal(sales.new_company()["id"], billing=fixed_terms(1), pipeline_id=pipeline["id"])


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
    assert outbox_events(stack, deal["id"]) == ["deal.created", "deal.stage_changed", "deal.won"]
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
    events = outbox_envelopes(stack, deal["id"])
    assert [e["event_type"] for e in events] == ["deal.created", "deal.stage_changed", "deal.won"]
    assert events[-1]["data"]["title"] == renamed[0]
    assert len(sales.ok("GET", f"/api/crm/deals/{deal['id']}/stage-history")["items"]) == 2
