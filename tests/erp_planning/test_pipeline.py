"""The ERP's replica of open CRM deals (erp.pipeline): a deal's life in the CRM shows in /api/erp/open-deals with its
stage's probability and the CRM's later revisions (deal.updated), and events arriving out of order (older ones late,
a stage change before its deal.created, a won deal's stage change after it) leave the replica as the newest event
says."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, as_role, sql
from tests.kafka_support import publish_raw
from tests.support import Api, wait_for
from throughline_events import Envelope, encode

DEALS = "crm.deal.events"


def open_deal(api: Api, deal_id: str, **expected: Any) -> dict[str, Any] | None:
    """The deal among the open deals once it shows what `expected` says (None until then)."""
    for deal in api.ok("GET", "/api/erp/open-deals"):
        if deal["deal_id"] == deal_id and all(deal[k] == v for k, v in expected.items()):
            return deal  # type: ignore[no-any-return]
    return None


def status_of(stack: Stack, deal_id: uuid.UUID | str) -> str:
    rows = sql(stack, f"SELECT status FROM pipeline_deals WHERE deal_id = '{deal_id}'")
    return rows[0][0] if rows else ""


def test_a_deal_s_life_in_the_crm(stack: Stack, boss: RoleApi) -> None:
    viewer = as_role(stack, "viewer")
    pipeline = next(p for p in boss.ok("GET", "/api/crm/pipelines") if p["is_default"])
    stages = {s["kind"]: s for s in reversed(pipeline["stages"])}  # the first stage of each kind
    open_stages = [s for s in pipeline["stages"] if s["kind"] == "open"]
    company = boss.new_company()
    deal = boss.new_deal(company["id"], amount="8000.00", expected_close_date="2027-01-15")
    first = open_stages[0]
    seen = wait_for(lambda: open_deal(viewer, deal["id"]), 15, "the new deal in the ERP")
    assert seen == {"deal_id": deal["id"], "company_id": company["id"], "title": deal["title"],
                    "amount": "8000.00", "currency": "EUR", "probability": _percent(first["probability"]),
                    "expected_close_date": "2027-01-15", "stage": first["name"]}

    # Sales revises the deal: the ERP's replica (tentative bookings, cash forecast) follows through deal.updated.
    boss.ok("PATCH", f"/api/crm/deals/{deal['id']}", json={"amount": "9500.00", "expected_close_date": "2027-02-26"})
    wait_for(lambda: open_deal(viewer, deal["id"], amount="9500.00", expected_close_date="2027-02-26"), 15,
             "the revised amount and close date")

    later = open_stages[-1]
    boss.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": later["id"]})
    wait_for(lambda: open_deal(viewer, deal["id"], stage=later["name"],
                               probability=_percent(later["probability"])), 15, "the stage change")

    boss.ok("POST", f"/api/crm/deals/{deal['id']}/lose", json={"reason": "Budget cut"})
    wait_for(lambda: status_of(stack, deal["id"]) == "lost", 15, "the loss")
    assert open_deal(viewer, deal["id"]) is None

    boss.ok("POST", f"/api/crm/deals/{deal['id']}/reopen", json={"stage_id": later["id"]})
    wait_for(lambda: open_deal(viewer, deal["id"], stage=later["name"]), 15, "the reopened deal")

    boss.ok("POST", f"/api/crm/deals/{deal['id']}/win",
            json={"billing": {"type": "fixed", "installments": 1, "interval": "month", "start_date": "2027-02-01"}})
    wait_for(lambda: status_of(stack, deal["id"]) == "won", 15, "the win")
    assert open_deal(viewer, deal["id"]) is None
    assert stages["won"]["probability"] in ("100", "100.00")


def _percent(value: str) -> str:
    return f"{Decimal(value):.2f}"


PUBLISHED: list[uuid.UUID] = []  # the event ids this module published, to wait until the ERP has handled them


async def publish(stack: Stack, event_type: str, deal_id: uuid.UUID, data: dict[str, Any],
                  occurred_at: datetime) -> None:
    envelope = Envelope(event_id=uuid.uuid4(), event_type=event_type, event_version=1, occurred_at=occurred_at,
                        producer="crm", aggregate_type="deal", aggregate_id=deal_id, data=data)
    await publish_raw(stack.bootstrap_servers, DEALS, encode(envelope), str(deal_id).encode(),
                      [("event_id", str(envelope.event_id).encode()), ("event_type", event_type.encode()),
                       ("event_version", b"1")], signer=stack.event_signer("crm"))
    PUBLISHED.append(envelope.event_id)


def created(deal_id: uuid.UUID, company_id: uuid.UUID, stage_id: uuid.UUID, at: datetime, **extra: Any
            ) -> dict[str, Any]:
    return {"deal_id": str(deal_id), "title": "Rebrand", "company_id": str(company_id), "amount": "5000.00",
            "currency": "EUR", "pipeline_id": str(uuid.uuid4()), "stage_id": str(stage_id),
            "created_at": at.isoformat(), "stage_name": "Lead", "probability": "10", **extra}


def stage_changed(deal_id: uuid.UUID, stage_id: uuid.UUID, name: str, probability: str, at: datetime
                  ) -> dict[str, Any]:
    return {"deal_id": str(deal_id), "from_stage_id": None, "to_stage_id": str(stage_id), "to_stage_name": name,
            "probability": probability, "changed_at": at.isoformat()}


def updated(deal_id: uuid.UUID, company_id: uuid.UUID, at: datetime, amount: str, close: str) -> dict[str, Any]:
    return {"deal_id": str(deal_id), "title": "Rebrand", "company_id": str(company_id), "amount": amount,
            "currency": "EUR", "expected_close_date": close, "updated_at": at.isoformat()}


def lost(deal_id: uuid.UUID, company_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    return {"deal_id": str(deal_id), "title": "Rebrand", "company_id": str(company_id), "amount": "5000.00",
            "currency": "EUR", "reason": "No budget", "lost_at": at.isoformat()}


def won(deal_id: uuid.UUID, company_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    return {"deal_id": str(deal_id), "title": "Rebrand, signed", "company": {"id": str(company_id), "name": "Acme"},
            "amount": "6000.00", "currency": "EUR", "won_at": at.isoformat()}


async def test_out_of_order_events(stack: Stack, boss: RoleApi) -> None:
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    company_id = uuid.uuid4()
    later_stage, first_stage, lost_stage, reopened_stage = (uuid.uuid4() for _ in range(4))

    # A: its stage change arrives before its deal.created; the older stage of deal.created must not win.
    a = uuid.uuid4()
    await publish(stack, "deal.stage_changed", a, stage_changed(a, later_stage, "Proposal", "60", t0 + timedelta(1)),
                  t0 + timedelta(1))
    await publish(stack, "deal.created", a, created(a, company_id, first_stage, t0), t0)
    # B: lost, and the lose's own stage change (older) arrives after the loss; then a repeat of deal.created.
    b = uuid.uuid4()
    await publish(stack, "deal.created", b, created(b, company_id, first_stage, t0), t0)
    await publish(stack, "deal.lost", b, lost(b, company_id, t0 + timedelta(2)), t0 + timedelta(2))
    await publish(stack, "deal.stage_changed", b, stage_changed(b, lost_stage, "Lost", "0", t0 + timedelta(1)),
                  t0 + timedelta(1))
    await publish(stack, "deal.created", b, created(b, company_id, first_stage, t0), t0)
    # C: lost, then reopened (a newer stage change): open again.
    c = uuid.uuid4()
    await publish(stack, "deal.created", c, created(c, company_id, first_stage, t0), t0)
    await publish(stack, "deal.lost", c, lost(c, company_id, t0 + timedelta(1)), t0 + timedelta(1))
    await publish(stack, "deal.stage_changed", c,
                  stage_changed(c, reopened_stage, "Negotiation", "80", t0 + timedelta(2)), t0 + timedelta(2))
    # D: won first; its (older) deal.created and a later stage change arrive after and change nothing of its status.
    d = uuid.uuid4()
    await publish(stack, "deal.won", d, won(d, company_id, t0 + timedelta(2)), t0 + timedelta(2))
    await publish(stack, "deal.created", d, created(d, company_id, first_stage, t0), t0)
    await publish(stack, "deal.stage_changed", d, stage_changed(d, later_stage, "Proposal", "60", t0 + timedelta(3)),
                  t0 + timedelta(3))

    # E: two revisions arrive newest first, then its deal.created: the newest revision's amount and date stay.
    e = uuid.uuid4()
    await publish(stack, "deal.updated", e, updated(e, company_id, t0 + timedelta(2), "7000.00", "2027-03-31"),
                  t0 + timedelta(2))
    await publish(stack, "deal.updated", e, updated(e, company_id, t0 + timedelta(1), "5500.00", "2027-02-28"),
                  t0 + timedelta(1))
    await publish(stack, "deal.created", e, created(e, company_id, first_stage, t0, expected_close_date="2027-01-31"),
                  t0)

    def all_handled() -> bool:
        ids = ", ".join(f"'{e}'" for e in PUBLISHED)
        return int(sql(stack, f"SELECT count(*) FROM inbox WHERE event_id IN ({ids})")[0][0]) == len(PUBLISHED)

    await asyncio.to_thread(wait_for, all_handled, 20, "the ERP to handle every event")
    deals = {deal["deal_id"]: deal for deal in boss.ok("GET", "/api/erp/open-deals")}
    assert deals[str(a)]["stage"] == "Proposal" and deals[str(a)]["probability"] == "60.00"
    assert deals[str(a)]["title"] == "Rebrand" and deals[str(a)]["amount"] == "5000.00"
    assert str(b) not in deals and status_of(stack, b) == "lost"
    assert deals[str(c)]["stage"] == "Negotiation" and deals[str(c)]["probability"] == "80.00"
    assert str(d) not in deals
    assert (deals[str(e)]["amount"], deals[str(e)]["expected_close_date"]) == ("7000.00", "2027-03-31")
    assert deals[str(e)]["stage"] == "Lead"  # deal.updated leaves the stage to the stage events
    title, amount, status = sql(stack, f"SELECT title, amount, status FROM pipeline_deals WHERE deal_id = '{d}'")[0]
    # The won deal's details, not the older deal.created's.
    assert (title, Decimal(amount), status) == ("Rebrand, signed", Decimal(6000), "won")
