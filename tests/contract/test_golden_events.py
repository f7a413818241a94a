"""Contract tests: the golden event of every (event_type, event_version) must keep parsing.

The goldens in `throughline_events/golden/` are written by hand, never generated from the models: they stand for
messages already sitting on the topics (or in a dead-letter topic, waiting for a replay). A model change that
would break such a message fails here. Add a golden with every new (event_type, event_version); never edit an
existing one to make a test pass.
"""

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import throughline_events
from throughline_events import (
    TOPICS,
    ContractError,
    EventPayload,
    InvalidPayload,
    MalformedEvent,
    UnknownEventType,
    UnknownEventVersion,
    dead_letter_topic,
    decode,
    encode,
    parse_payload,
    registered_payloads,
    topic_for,
)
from throughline_events.codec import MAX_EVENT_BYTES

GOLDEN_DIR = Path(throughline_events.__file__).parent / "golden"
GOLDEN_NAME = re.compile(
    r"^(?P<event_type>[a-z_]+\.[a-z_]+)\.v(?P<version>[1-9][0-9]*)(?:\.(?P<variant>[a-z_]+))?\.json$"
)
GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*.json"))

DEAL_WON_VARIANTS = {"fixed", "milestones", "retainer", "time_and_materials", "no_billing"}
# deal.won with the optional `lines` of an accepted quote (issue 25): not a billing terms variant.
DEAL_WON_EXTRA_VARIANTS = {"quote_lines"}

# DESIGN §3: topic per aggregate, `<context>.<aggregate>.events`.
CONTRACT_TOPICS = {
    "crm.lead.events",
    "crm.account.events",
    "crm.deal.events",
    "erp.project.events",
    "erp.invoice.events",
    "erp.expense.events",
    # Issue 23: the gateway's users, from which the ERP keeps its people.
    "gateway.user.events",
    "erp.timesheet.events",
    "erp.booking.events",
    "erp.ledger.events",
}
EXPECTED_TOPIC = {
    "lead.created": "crm.lead.events",
    "lead.converted": "crm.lead.events",
    "company.created": "crm.account.events",
    "company.updated": "crm.account.events",
    "contact.created": "crm.account.events",
    "contact.updated": "crm.account.events",
    # The mail the CRM exchanges with its contacts and leads rides with them (docs/crm-communications.md).
    "mail.sent": "crm.account.events",
    "mail.reply_received": "crm.account.events",
    "deal.created": "crm.deal.events",
    "deal.stage_changed": "crm.deal.events",
    "deal.won": "crm.deal.events",
    "deal.lost": "crm.deal.events",
    "deal.updated": "crm.deal.events",
    # A quote rides with its deal: quote.accepted comes before the deal.won it causes, on one partition.
    "quote.sent": "crm.deal.events",
    "quote.accepted": "crm.deal.events",
    "quote.declined": "crm.deal.events",
    "project.created": "erp.project.events",
    "project.budget_threshold_reached": "erp.project.events",
    "invoice.issued": "erp.invoice.events",
    "payment.recorded": "erp.invoice.events",
    "invoice.paid": "erp.invoice.events",
    "invoice.overdue": "erp.invoice.events",
    "invoice.voided": "erp.invoice.events",
    "invoice.sent": "erp.invoice.events",
    "invoice.delivery_failed": "erp.invoice.events",
    "expense.submitted": "erp.expense.events",
    "expense.approved": "erp.expense.events",
    "expense.rejected": "erp.expense.events",
    "user.created": "gateway.user.events",
    "user.updated": "gateway.user.events",
    "user.deactivated": "gateway.user.events",
    "time.week_submitted": "erp.timesheet.events",
    "time.week_approved": "erp.timesheet.events",
    "booking.changed": "erp.booking.events",
    "ledger.entry_posted": "erp.ledger.events",
    "ledger.period_closed": "erp.ledger.events",
}


def _load(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path.name}: a golden is one JSON object"
    return doc


def _golden(name: str) -> dict[str, Any]:
    return _load(GOLDEN_DIR / name)


def _key(path: Path) -> tuple[str, int]:
    match = GOLDEN_NAME.match(path.name)
    assert match, f"{path.name}: golden files are named <event_type>.v<version>[.<variant>].json"
    return match["event_type"], int(match["version"])


def _raw(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _parse(doc: Any) -> EventPayload:
    return parse_payload(decode(_raw(doc)))


def _with_unknown_fields(value: Any) -> Any:
    """The same document with a field nobody knows yet added to every object in it."""
    if isinstance(value, dict):
        widened = {key: _with_unknown_fields(item) for key, item in value.items()}
        widened["x_added_later"] = {"note": "a field a newer producer writes", "n": 1}
        return widened
    if isinstance(value, list):
        return [_with_unknown_fields(item) for item in value]
    return value


def _floats_in(value: Any, where: str = "data") -> list[str]:
    if isinstance(value, float):
        return [where]
    if isinstance(value, dict):
        return [hit for key, item in value.items() for hit in _floats_in(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [hit for i, item in enumerate(value) for hit in _floats_in(item, f"{where}[{i}]")]
    return []


def _decimals_not_written_as_strings(value: Any, written: Any, where: str) -> list[str]:
    """Paths where a Decimal of the parsed payload is not a decimal string of the same value in its JSON."""
    if isinstance(value, Decimal):
        if isinstance(written, str) and Decimal(written) == value:
            return []
        return [f"{where}: {written!r}"]
    if isinstance(value, BaseModel):
        return [
            bad
            for name in type(value).model_fields
            for bad in _decimals_not_written_as_strings(getattr(value, name), written[name], f"{where}.{name}")
        ]
    if isinstance(value, list | tuple):
        return [
            bad
            for i, (item, item_written) in enumerate(zip(value, written, strict=True))
            for bad in _decimals_not_written_as_strings(item, item_written, f"{where}[{i}]")
        ]
    return []


# --- the set of goldens ------------------------------------------------------------------------------------


def test_the_goldens_are_there() -> None:
    assert len(GOLDEN_FILES) >= len(registered_payloads())


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.name)
def test_golden_file_is_named_after_its_event(path: Path) -> None:
    doc = _load(path)
    assert (doc["event_type"], doc["event_version"]) == _key(path)


def test_every_registered_event_has_a_golden_and_every_golden_a_registered_event() -> None:
    golden_keys = {_key(path) for path in GOLDEN_FILES}
    registered = set(registered_payloads())
    assert not registered - golden_keys, f"write a golden for {sorted(registered - golden_keys)}"
    # A golden whose (type, version) is no longer registered means a published version was dropped.
    assert not golden_keys - registered, f"no model reads {sorted(golden_keys - registered)} any more"


def test_deal_won_has_a_golden_per_billing_terms_type() -> None:
    variants: dict[str, Path] = {}
    for path in GOLDEN_FILES:
        match = GOLDEN_NAME.match(path.name)
        if match and match["event_type"] == "deal.won" and match["variant"]:
            variants[match["variant"]] = path
    assert set(variants) == DEAL_WON_VARIANTS | DEAL_WON_EXTRA_VARIANTS
    for variant, path in variants.items():
        if variant in DEAL_WON_EXTRA_VARIANTS:
            continue
        data = _load(path)["data"]
        if variant == "no_billing":
            assert "billing" not in data, "the no_billing golden leaves the field out, as an older producer would"
        else:
            assert data["billing"]["type"] == variant


# --- every golden parses and round-trips --------------------------------------------------------------------


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.name)
def test_golden_decodes_into_the_registered_model(path: Path) -> None:
    envelope = decode(path.read_bytes())
    payload = parse_payload(envelope)

    model = registered_payloads()[_key(path)]
    assert type(payload) is model
    assert envelope.aggregate_type == model.aggregate_type
    assert envelope.aggregate_id == payload.aggregate_id(), "the envelope's aggregate_id is the payload's id field"
    assert envelope.occurred_at.utcoffset() is not None
    topic = topic_for(model.aggregate_type)
    assert envelope.producer == topic.name.split(".")[0], "the context that owns the topic produces the event"


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.name)
def test_golden_round_trips(path: Path) -> None:
    golden = _load(path)
    envelope = decode(path.read_bytes())
    payload = parse_payload(envelope)

    assert json.loads(encode(envelope)) == golden
    # What was in the message comes back out unchanged (fields the golden leaves out keep their defaults).
    assert payload.model_dump(mode="json", exclude_unset=True) == golden["data"]
    # A producer writes the whole payload; a consumer reads back an equal one.
    republished = envelope.model_copy(update={"data": payload.model_dump(mode="json")})
    assert parse_payload(decode(encode(republished))) == payload


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.name)
def test_money_stays_a_decimal_string(path: Path) -> None:
    payload = parse_payload(decode(path.read_bytes()))
    written = json.loads(payload.model_dump_json())
    assert _floats_in(written) == []
    assert _decimals_not_written_as_strings(payload, written, "data") == []


def test_money_keeps_its_exact_digits() -> None:
    payload = _parse(_golden("deal.won.v1.json"))
    written = json.loads(payload.model_dump_json())
    assert written["amount"] == "12000.00"
    assert _parse(_golden("deal.won.v1.no_billing.json")).model_dump(mode="json")["amount"] == "1500000"


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.name)
def test_golden_with_unknown_fields_still_parses(path: Path) -> None:
    golden = _load(path)
    widened = _with_unknown_fields(golden)

    envelope = decode(_raw(widened))
    assert parse_payload(envelope) == parse_payload(decode(_raw(golden)))


def test_deal_won_billing_null_means_absent() -> None:
    doc = _golden("deal.won.v1.no_billing.json")
    doc["data"]["billing"] = None
    payload = _parse(doc)
    assert payload == _parse(_golden("deal.won.v1.no_billing.json"))
    assert payload.model_dump()["billing"] is None


def test_timestamps_with_a_non_zero_offset_are_accepted() -> None:
    doc = _golden("deal.won.v1.json")
    doc["occurred_at"] = "2026-11-27T11:00:00+01:00"
    doc["data"]["won_at"] = "2026-11-27T11:00:00+01:00"
    envelope = decode(_raw(doc))
    payload = parse_payload(envelope)
    assert envelope.occurred_at == decode(_raw(_golden("deal.won.v1.json"))).occurred_at
    assert payload == _parse(_golden("deal.won.v1.json"))


# --- what the contract rejects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("golden", "path", "value"),
    [
        ("deal.won.v1.json", ("amount",), 12000.0),
        ("deal.won.v1.retainer.json", ("billing", "amount"), 5000.0),
        ("deal.won.v1.time_and_materials.json", ("billing", "hourly_rate"), 120.5),
        ("deal.won.v1.milestones.json", ("billing", "milestones", 0, "percent"), 30.0),
        ("invoice.issued.v1.json", ("total",), 4760.0),
        ("payment.recorded.v1.json", ("balance_due",), 2760.0),
    ],
    ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else str(v),
)
def test_money_as_a_json_float_is_rejected(golden: str, path: tuple[str | int, ...], value: float) -> None:
    doc = _golden(golden)
    target: Any = doc["data"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(InvalidPayload, match="decimal string"):
        _parse(doc)


@pytest.mark.parametrize("currency", ["ZZZ", "eur", "EURO", ""])
def test_unknown_currency_is_rejected(currency: str) -> None:
    doc = _golden("deal.won.v1.json")
    doc["data"]["currency"] = currency
    with pytest.raises(InvalidPayload, match="currency"):
        _parse(doc)


def test_milestone_percents_not_making_100_are_rejected() -> None:
    doc = _golden("deal.won.v1.milestones.json")
    doc["data"]["billing"]["milestones"][1]["percent"] = "35"
    with pytest.raises(InvalidPayload, match="add up to 100"):
        _parse(doc)


def test_unknown_billing_terms_type_is_rejected() -> None:
    doc = _golden("deal.won.v1.json")
    doc["data"]["billing"]["type"] = "barter"
    with pytest.raises(InvalidPayload, match="billing"):
        _parse(doc)


def test_payload_timestamp_without_offset_is_rejected() -> None:
    doc = _golden("deal.won.v1.json")
    doc["data"]["won_at"] = "2026-11-27T10:00:00"
    with pytest.raises(InvalidPayload, match="won_at"):
        _parse(doc)


def test_envelope_timestamp_without_offset_is_malformed() -> None:
    doc = _golden("deal.won.v1.json")
    doc["occurred_at"] = "2026-11-27T10:00:00"
    with pytest.raises(MalformedEvent, match="occurred_at"):
        decode(_raw(doc))


def test_missing_required_field_is_rejected() -> None:
    doc = _golden("deal.won.v1.json")
    del doc["data"]["company"]
    with pytest.raises(InvalidPayload, match="company"):
        _parse(doc)


def test_unknown_version_is_rejected() -> None:
    doc = _golden("deal.won.v1.json")
    doc["event_version"] = 99
    with pytest.raises(UnknownEventVersion, match=r"no version 99"):
        _parse(doc)


def test_unknown_type_is_rejected() -> None:
    doc = _golden("deal.won.v1.json")
    doc["event_type"] = "deal.teleported"
    with pytest.raises(UnknownEventType, match=r"deal\.teleported"):
        _parse(doc)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        b"",
        b"\xff\xfe\x00\x01 not utf-8",
        b"not json at all",
        b"[1, 2, 3]",
        b'{"event_type": "deal.won", "event_version": 1}',
        b'{"event_id": "not-a-uuid"}',
    ],
    ids=repr,
)
def test_garbage_is_malformed(raw: bytes | None) -> None:
    with pytest.raises(MalformedEvent):
        decode(raw)


def test_oversized_message_is_malformed() -> None:
    doc = _golden("deal.won.v1.json")
    doc["data"]["padding"] = "x" * (1024 * 1024)
    raw = _raw(doc)
    assert len(raw) > 1024 * 1024 and len(raw) > MAX_EVENT_BYTES
    with pytest.raises(MalformedEvent, match="limit"):
        decode(raw)


def test_a_message_at_the_limit_is_still_read() -> None:
    doc = _golden("deal.won.v1.json")
    doc["data"]["padding"] = ""
    doc["data"]["padding"] = "x" * (MAX_EVENT_BYTES - len(_raw(doc)))
    assert len(_raw(doc)) == MAX_EVENT_BYTES
    assert _parse(doc) == _parse(_golden("deal.won.v1.json"))


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (MalformedEvent, "malformed"),
        (UnknownEventType, "unknown_event_type"),
        (UnknownEventVersion, "unknown_event_version"),
        (InvalidPayload, "invalid_payload"),
    ],
)
def test_contract_errors_name_their_reason(error: type[ContractError], reason: str) -> None:
    assert issubclass(error, ContractError)
    assert error.reason == reason


# --- the topic registry ---------------------------------------------------------------------------------------


def test_the_topics_are_those_of_the_contract() -> None:
    assert set(TOPICS) == CONTRACT_TOPICS
    for name, topic in TOPICS.items():
        assert topic.name == name
        assert re.fullmatch(rf"(crm|erp|gateway)\.{topic.aggregate_type}\.events", name)


@pytest.mark.parametrize("key", sorted(registered_payloads()), ids=lambda k: f"{k[0]}.v{k[1]}")
def test_every_event_has_its_topic(key: tuple[str, int]) -> None:
    model = registered_payloads()[key]
    topic = topic_for(model.aggregate_type)
    assert topic.name in CONTRACT_TOPICS
    assert topic.name == EXPECTED_TOPIC[model.event_type]
    assert model.aggregate_id_field in model.model_fields


def test_every_registered_event_type_is_in_the_expected_topic_table() -> None:
    assert {event_type for event_type, _ in registered_payloads()} == set(EXPECTED_TOPIC)


def test_an_unknown_aggregate_has_no_topic() -> None:
    with pytest.raises(KeyError):
        topic_for("spaceship")


def test_dead_letter_topic_name() -> None:
    assert dead_letter_topic("crm.deal.events", "erp") == "crm.deal.events.erp.dlt"
    assert dead_letter_topic("erp.invoice.events", "crm") == "erp.invoice.events.crm.dlt"
