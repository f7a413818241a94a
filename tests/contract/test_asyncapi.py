"""The published AsyncAPI document: generated from the models, checked in, and never allowed to drift."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import throughline_events
from throughline_events import TOPICS, dead_letter_topic, registered_payloads, topic_for
from throughline_events import asyncapi as asyncapi_module
from throughline_events.asyncapi import build_document, main, render

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = REPO_ROOT / "docs" / "asyncapi.yaml"
EVENTS_DOC = REPO_ROOT / "docs" / "events.md"
REGENERATE = "python -m throughline_events.asyncapi --output docs/asyncapi.yaml"
GOLDEN_DIR = Path(throughline_events.__file__).parent / "golden"
COMPONENT_KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")


def _load_text(text: str) -> Any:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(text)


def _differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ, as JSON-pointer-like paths."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key in list(expected) + [k for k in actual if k not in expected]:
            if key not in actual:
                found.append(f"{path}/{key}: missing from the checked-in file")
            elif key not in expected:
                found.append(f"{path}/{key}: no longer generated")
            else:
                found += _differences(expected[key], actual[key], f"{path}/{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            diff
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for diff in _differences(e, a, f"{path}/{i}")
        ]
    return [] if expected == actual else [f"{path or '/'}: {actual!r} should be {expected!r}"]


def _resolve(document: Any, ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def _walk(value: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        return [(path, value)] + [hit for key, item in value.items() for hit in _walk(item, f"{path}/{key}")]
    if isinstance(value, list):
        return [hit for i, item in enumerate(value) for hit in _walk(item, f"{path}/{i}")]
    return []


DOCUMENT = build_document()


# --- (a) the checked-in document is the generated one -----------------------------------------------------------


def test_checked_in_document_matches_the_models() -> None:
    assert CHECKED_IN.is_file(), f"docs/asyncapi.yaml is missing; generate it with: {REGENERATE}"
    checked_in = _load_text(CHECKED_IN.read_text(encoding="utf-8"))
    differences = _differences(DOCUMENT, checked_in)
    assert not differences, (
        f"docs/asyncapi.yaml is out of date with the event models; regenerate it with:\n    {REGENERATE}\n"
        + "\n".join(differences[:15])
        + (f"\n... and {len(differences) - 15} more" if len(differences) > 15 else "")
    )


def test_generation_is_deterministic() -> None:
    assert render(build_document(), "json") == render(DOCUMENT, "json")


# --- (b) every registered event is published -------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(registered_payloads()), ids=lambda k: f"{k[0]}.v{k[1]}")
def test_every_registered_event_is_in_the_document(key: tuple[str, int]) -> None:
    event_type, version = key
    model = registered_payloads()[key]
    message_id = f"{event_type}.v{version}"
    message = DOCUMENT["components"]["messages"][message_id]

    assert message["name"] == event_type
    assert message["summary"], f"give {model.__name__} a docstring: it is the message summary"
    payload = message["payload"]["allOf"]
    assert _resolve(DOCUMENT, payload[0]["$ref"]) is DOCUMENT["components"]["schemas"]["Envelope"]
    properties = payload[1]["properties"]
    assert properties["event_type"] == {"const": event_type}
    assert properties["event_version"] == {"const": version}
    assert properties["aggregate_type"] == {"const": model.aggregate_type}
    data_schema = _resolve(DOCUMENT, properties["data"]["$ref"])
    assert set(data_schema["properties"]) == set(model.model_fields)
    assert message["bindings"]["kafka"]["key"]["type"] == "string"

    topic = topic_for(model.aggregate_type)
    channels = [c for c in DOCUMENT["channels"].values() if c["address"] == topic.name]
    assert len(channels) == 1
    assert channels[0]["messages"][message_id] == {"$ref": f"#/components/messages/{message_id}"}


def test_the_document_has_no_other_messages() -> None:
    expected = {f"{event_type}.v{version}" for event_type, version in registered_payloads()}
    assert set(DOCUMENT["components"]["messages"]) == expected


def test_the_human_doc_lists_every_event() -> None:
    text = EVENTS_DOC.read_text(encoding="utf-8")
    for (event_type, version), model in registered_payloads().items():
        row = f"| `{event_type}` | {version} | `{topic_for(model.aggregate_type).name}` |"
        assert row in text, f"docs/events.md has no row for {event_type} v{version}"


def test_every_golden_is_a_message_example() -> None:
    examples = {
        example["name"]: example
        for message in DOCUMENT["components"]["messages"].values()
        for example in message.get("examples", [])
    }
    for path in sorted(GOLDEN_DIR.glob("*.json")):
        golden = json.loads(path.read_text(encoding="utf-8"))
        example = examples[path.name.removesuffix(".json")]
        assert example["payload"] == golden
        assert example["headers"]["event_version"] == str(golden["event_version"])


# --- (c) a structurally valid AsyncAPI 3.0 document ------------------------------------------------------------


def test_required_top_level_keys() -> None:
    for key in ("asyncapi", "info", "channels", "operations", "components"):
        assert key in DOCUMENT
    assert DOCUMENT["asyncapi"] == "3.0.0"
    assert DOCUMENT["info"]["title"] and DOCUMENT["info"]["version"]
    assert DOCUMENT["defaultContentType"] == "application/json"
    for server in DOCUMENT["servers"].values():
        assert server["protocol"] == "kafka" and server["host"]


def test_every_reference_resolves() -> None:
    refs = [node["$ref"] for _, node in _walk(DOCUMENT) if "$ref" in node]
    assert refs
    for ref in refs:
        _resolve(DOCUMENT, ref)


def test_component_keys_are_valid() -> None:
    for kind, components in DOCUMENT["components"].items():
        for key in components:
            assert COMPONENT_KEY.match(key), f"components/{kind}/{key}"


def test_channels_cover_every_topic_and_its_dead_letters() -> None:
    addresses = {channel["address"] for channel in DOCUMENT["channels"].values()}
    for topic in TOPICS.values():
        assert topic.name in addresses
        dead_letters = [a for a in addresses if a.startswith(f"{topic.name}.{{")]
        assert len(dead_letters) == 1
        assert dead_letters[0].replace("{consumer_group}", "erp") == dead_letter_topic(topic.name, "erp")

    for channel_id, channel in DOCUMENT["channels"].items():
        assert COMPONENT_KEY.match(channel_id)
        assert channel["messages"], channel_id
        for name in re.findall(r"{([^}]+)}", channel["address"]):
            assert name in channel.get("parameters", {}), f"{channel_id}: parameter {name} is not declared"
        kafka = channel["bindings"]["kafka"]
        assert kafka["bindingVersion"]
        if "{" not in channel["address"]:
            topic = TOPICS[channel["address"]]
            assert kafka["topic"] == topic.name and kafka["partitions"] == topic.partitions


def test_operations_reference_their_channel_and_its_messages() -> None:
    published = set()
    for operation_id, operation in DOCUMENT["operations"].items():
        assert operation["action"] in ("send", "receive"), operation_id
        channel_ref = operation["channel"]["$ref"]
        channel = _resolve(DOCUMENT, channel_ref)
        assert operation["messages"], operation_id
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel_ref}/messages/"), f"{operation_id}: {message['$ref']}"
            _resolve(DOCUMENT, message["$ref"])
        if "{" not in channel["address"]:
            published.add(channel["address"])
    assert published == set(TOPICS)


def test_schemas_are_asyncapi_schemas() -> None:
    for path, node in _walk(DOCUMENT["components"]["schemas"], "/components/schemas"):
        assert "$defs" not in node, f"{path}: nested definitions belong in components/schemas"
        if "discriminator" in node:
            assert isinstance(node["discriminator"], str), f"{path}: AsyncAPI's discriminator is a property name"


def test_money_is_never_a_json_number_in_the_schemas() -> None:
    for path, node in _walk(DOCUMENT["components"]["schemas"], "/components/schemas"):
        assert node.get("type") != "number", f"{path}: money and other decimals are strings on the wire"
    amount = DOCUMENT["components"]["schemas"]["DealWonV1"]["properties"]["amount"]
    assert amount["type"] == "string" and re.fullmatch(amount["pattern"], "12000.00")
    assert not re.fullmatch(amount["pattern"], "12,000.00")


def test_billing_variants_require_their_tag() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    for variant in ("FixedInstallments", "Milestones", "Retainer", "TimeAndMaterials"):
        assert "type" in schemas[variant]["required"]


def test_headers_carry_the_envelope_identity() -> None:
    headers = DOCUMENT["components"]["schemas"]["EventHeaders"]
    assert set(headers["properties"]) == {"event_id", "event_type", "event_version", "correlation_id"}
    assert set(headers["required"]) == {"event_id", "event_type", "event_version"}
    for message in DOCUMENT["components"]["messages"].values():
        assert message["correlationId"]["location"] == "$message.header#/correlation_id"


# --- the command line -----------------------------------------------------------------------------------------


def test_main_writes_yaml_and_json(tmp_path: Path) -> None:
    assert main(["--output", str(tmp_path / "asyncapi.yaml")]) == 0
    text = (tmp_path / "asyncapi.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Generated")
    assert _load_text(text) == DOCUMENT

    assert main(["--output", str(tmp_path / "asyncapi.json")]) == 0
    assert json.loads((tmp_path / "asyncapi.json").read_text(encoding="utf-8")) == DOCUMENT


def test_json_without_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncapi_module, "_yaml", lambda: None)
    assert json.loads(render(DOCUMENT)) == DOCUMENT
    with pytest.raises(RuntimeError, match="PyYAML"):
        render(DOCUMENT, "yaml")


def test_module_runs_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "throughline_events.asyncapi", "--format", "json"],
        capture_output=True,
        check=True,
        text=True,
        timeout=60,
    )
    assert json.loads(result.stdout) == DOCUMENT
