"""The AsyncAPI 3.0 document of the event contract, built from the payload registry and the topic registry.

Other systems subscribe from this document without reading our code. Regenerate the checked-in copy with:

    python -m throughline_events.asyncapi --output docs/asyncapi.yaml

YAML needs PyYAML (an optional dependency); without it, or with `--format json`, the document is written as JSON.
"""

import argparse
import importlib
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from throughline_events.envelope import Envelope, EventPayload, registered_payloads
from throughline_events.money import check_currency
from throughline_events.topics import DEAD_LETTER_SUFFIX, TOPICS, Topic, topic_for

JsonObject = dict[str, Any]

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
DOCUMENT_TITLE = "Throughline integration events"
SCHEMA_REF = "#/components/schemas/{model}"
HEADERS_SCHEMA = "EventHeaders"
ENVELOPE_SCHEMA = "Envelope"
CONSUMER_GROUP_PARAMETER = "consumer_group"
LOCAL_BROKER = "127.0.0.1:9092"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
UNSIGNED_DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
CURRENCY_SCHEMA: JsonObject = {
    "type": "string",
    "pattern": "^[A-Z]{3}$",
    "description": "An active ISO 4217 alphabetic currency code.",
    "examples": ["EUR"],
}
ENVELOPE_FIELDS = {
    "event_id": "Unique per event; consumers deduplicate on it (delivery is at least once).",
    "event_type": "The stable wire name of the event, `<aggregate>.<what happened>`.",
    "event_version": "The version of the `data` schema of this event type.",
    "occurred_at": "When the change happened (UTC, with offset).",
    "producer": "The service that wrote the event: `crm`, `erp` or `gateway`.",
    "aggregate_type": "The kind of aggregate the event is about; it names the topic.",
    "aggregate_id": "The aggregate's id; also the Kafka message key.",
    "correlation_id": "The gateway request id that started the chain of events, carried from event to event.",
    "causation_id": "The id of the request or of the event that directly caused this one.",
    "data": "The payload of (`event_type`, `event_version`).",
}

GENERATED_NOTICE = (
    "# Generated from the throughline_events models by\n"
    "#   python -m throughline_events.asyncapi --output docs/asyncapi.yaml\n"
    "# Do not edit by hand: tests/contract/test_asyncapi.py fails when this file drifts from the models.\n"
)

DESCRIPTION = """\
The integration events of Throughline's CRM, ERP and gateway, published on Kafka.

- **Value**: a UTF-8 JSON envelope (`Envelope`); `data` holds the payload of (`event_type`, `event_version`).
- **Key**: the aggregate id (`aggregate_id`, a UUID string); it orders each aggregate's events.
- **Headers** repeat `event_id`, `event_type`, `event_version` and `correlation_id` as UTF-8 strings.
- **Topics**: one per aggregate, `<context>.<aggregate>.events`. A consumer group parks what it cannot process in
  `<topic>.<consumer_group>.dlt`, original value unchanged, with headers naming the error and the original
  topic, partition and offset.
- **Money** is a decimal string (`"12000.00"`) next to its ISO 4217 currency, never a JSON number.
  **Timestamps** are ISO 8601 with a UTC offset (`"2026-11-27T10:00:00Z"`).
- **Versioning**: readers ignore fields they do not know, so adding an optional field is not a new version.
  A breaking change is a new `event_version`; producers publish both versions while consumers move.
- Delivery is at least once: deduplicate on `event_id`.
"""


class ContractJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, adjusted to what is on the wire: decimals are strings, never numbers."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        json_schema: JsonSchemaValue = {"type": "string", "pattern": DECIMAL_PATTERN}
        bounds = _decimal_bounds(schema)
        if bounds:
            json_schema["description"] = f"A decimal string, {' and '.join(bounds)}."
        lower = schema.get("gt", schema.get("ge"))
        if lower is not None and Decimal(lower) >= 0:
            json_schema["pattern"] = UNSIGNED_DECIMAL_PATTERN
        return json_schema

    def function_after_schema(self, schema: core_schema.AfterValidatorFunctionSchema) -> JsonSchemaValue:
        if schema["function"]["function"] is check_currency:
            return dict(CURRENCY_SCHEMA)
        return super().function_after_schema(schema)


def _decimal_bounds(schema: core_schema.DecimalSchema) -> list[str]:
    bounds = [
        ("greater than", schema.get("gt")),
        ("at least", schema.get("ge")),
        ("less than", schema.get("lt")),
        ("at most", schema.get("le")),
    ]
    return [f"{words} {value}" for words, value in bounds if value is not None]


def build_document() -> JsonObject:
    """The AsyncAPI 3.0 document, as plain JSON data (dicts, lists, strings, numbers, booleans)."""
    payloads = registered_payloads()
    schemas, payload_refs = _component_schemas(list(payloads.values()))
    examples = _golden_examples()

    messages: JsonObject = {}
    by_topic: dict[str, list[str]] = {name: [] for name in TOPICS}
    for (event_type, version), model in payloads.items():
        message_id = _message_id(event_type, version)
        topic = topic_for(model.aggregate_type)
        messages[message_id] = _message(model, topic, payload_refs[model], examples.get((event_type, version), []))
        by_topic[topic.name].append(message_id)

    channels: JsonObject = {}
    operations: JsonObject = {}
    for topic in TOPICS.values():
        channel_id = _channel_id(topic)
        dead_letter_id = f"{channel_id}DeadLetters"
        message_ids = by_topic[topic.name]
        aggregates = _aggregates(topic, payloads.values())
        channels[channel_id] = _channel(topic, message_ids, aggregates)
        channels[dead_letter_id] = _dead_letter_channel(topic, message_ids)
        operations[f"publish{channel_id[0].upper()}{channel_id[1:]}"] = _operation(
            channel_id,
            message_ids,
            title=f"Publish {topic.aggregate_type} events",
            summary=(
                f"The {_context(topic).upper()} relay publishes these events from its transactional outbox "
                f"(acks=all), keyed by the {' or '.join(aggregates)} id."
            ),
        )
        operations[f"deadLetter{channel_id[0].upper()}{channel_id[1:]}"] = _operation(
            dead_letter_id,
            message_ids,
            title=f"Dead-letter {topic.aggregate_type} events",
            summary=f"A consumer group parks the {topic.name} messages it cannot process.",
        )

    document: JsonObject = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": DOCUMENT_TITLE,
            "version": _contract_version(),
            "description": DESCRIPTION,
        },
        "servers": {
            "local": {
                "host": LOCAL_BROKER,
                "protocol": "kafka",
                "description": "The embedded Kafka-compatible broker that `make run` starts.",
            },
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
        },
    }
    # Plain JSON data with no shared sub-objects: what gets written is exactly what a reader parses back.
    result: JsonObject = json.loads(json.dumps(document))
    return result


def _component_schemas(models: Sequence[type[EventPayload]]) -> tuple[JsonObject, dict[type[BaseModel], str]]:
    """Every schema the messages use, by name, and the `$ref` of each payload model's schema."""
    wanted: list[type[BaseModel]] = [Envelope, *models]
    refs, top = models_json_schema(
        [(model, "validation") for model in wanted],
        ref_template=SCHEMA_REF,
        schema_generator=ContractJsonSchema,
    )
    schemas: JsonObject = dict(top.get("$defs", {}))
    _discriminators_for_asyncapi(schemas)
    for name, description in ENVELOPE_FIELDS.items():
        schemas[ENVELOPE_SCHEMA]["properties"][name]["description"] = description
    schemas[HEADERS_SCHEMA] = {
        "title": HEADERS_SCHEMA,
        "description": (
            "Kafka headers of every event. They repeat envelope fields so that a consumer can route, "
            "deduplicate or dead-letter a message without decoding its value. Values are UTF-8 strings."
        ),
        "type": "object",
        "properties": {
            "event_id": {"type": "string", "format": "uuid"},
            "event_type": {"type": "string", "examples": ["deal.won"]},
            "event_version": {
                "type": "string",
                "pattern": "^[1-9][0-9]*$",
                "description": "The envelope's event_version, in decimal digits.",
            },
            "correlation_id": {"type": "string", "description": "Left out when the envelope has none."},
        },
        "required": ["event_id", "event_type", "event_version"],
    }
    model_refs: dict[type[BaseModel], str] = {}
    for (model, _mode), ref in refs.items():
        assert isinstance(model, type) and issubclass(model, BaseModel)
        model_refs[model] = ref["$ref"]
    assert model_refs[Envelope] == SCHEMA_REF.format(model=ENVELOPE_SCHEMA)
    return dict(sorted(schemas.items())), model_refs


def _discriminators_for_asyncapi(schemas: JsonObject) -> None:
    """Rewrite pydantic's OpenAPI-style discriminator objects into AsyncAPI's (a property name).

    The tag is required on the wire (the reader cannot pick the variant without it), so each variant's
    schema lists it as required even though the model gives it a default.
    """
    for node in _objects(schemas):
        discriminator = node.get("discriminator")
        if not isinstance(discriminator, dict):
            continue
        tag = discriminator["propertyName"]
        for ref in discriminator.get("mapping", {}).values():
            variant = schemas[ref.rsplit("/", 1)[-1]]
            required = variant.setdefault("required", [])
            if tag not in required:
                required.insert(0, tag)
        node["discriminator"] = tag


def _objects(value: Any) -> Iterator[JsonObject]:
    if isinstance(value, dict):
        yield value
        for item in list(value.values()):
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def _message(model: type[EventPayload], topic: Topic, payload_ref: str, examples: list[JsonObject]) -> JsonObject:
    summary, description = _doc(model)
    message: JsonObject = {
        "name": model.event_type,
        "title": f"{model.event_type} v{model.event_version}",
        "summary": summary,
        "description": (
            f"{description}\n\nTopic `{topic.name}`, key = `{model.aggregate_id_field}` "
            f"(the envelope's `aggregate_id`; aggregate type `{model.aggregate_type}`)."
        ).strip(),
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": SCHEMA_REF.format(model=HEADERS_SCHEMA)},
                {
                    "type": "object",
                    "properties": {
                        "event_type": {"const": model.event_type},
                        "event_version": {"const": str(model.event_version)},
                    },
                },
            ],
        },
        "payload": {
            "allOf": [
                {"$ref": SCHEMA_REF.format(model=ENVELOPE_SCHEMA)},
                {
                    "type": "object",
                    "properties": {
                        "event_type": {"const": model.event_type},
                        "event_version": {"const": model.event_version},
                        "aggregate_type": {"const": model.aggregate_type},
                        "data": {"$ref": payload_ref},
                    },
                },
            ],
        },
        "correlationId": {
            "description": "The gateway request id that started the chain of events.",
            "location": "$message.header#/correlation_id",
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "format": "uuid",
                    "description": f"The {model.aggregate_type} id (`data.{model.aggregate_id_field}`).",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            },
        },
    }
    if examples:
        message["examples"] = examples
    return message


def _aggregates(topic: Topic, models: Iterable[type[EventPayload]]) -> list[str]:
    found = {model.aggregate_type for model in models if topic_for(model.aggregate_type) == topic}
    return sorted(found) or [topic.aggregate_type]


def _channel(topic: Topic, message_ids: Sequence[str], aggregates: Sequence[str]) -> JsonObject:
    return {
        "address": topic.name,
        "title": topic.name,
        "description": (
            f"{topic.description} Key: the {' or '.join(aggregates)} id. Dead letters of consumer group "
            f"`<group>` go to `{topic.name}.<group>.{DEAD_LETTER_SUFFIX}`."
        ),
        "messages": {message_id: {"$ref": f"#/components/messages/{message_id}"} for message_id in message_ids},
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "bindingVersion": KAFKA_BINDING_VERSION,
            },
        },
    }


def _dead_letter_channel(topic: Topic, message_ids: Sequence[str]) -> JsonObject:
    return {
        "address": f"{topic.name}.{{{CONSUMER_GROUP_PARAMETER}}}.{DEAD_LETTER_SUFFIX}",
        "title": f"{topic.name} dead letters",
        "description": (
            f"Messages of `{topic.name}` that a consumer group could not process: undecodable or invalid ones at "
            "once, the others after bounded retries. The value and key are the original ones, unchanged (so a "
            "value may not match any message schema); headers name the error and the original topic, partition "
            "and offset. A replay command publishes them back to the original topic."
        ),
        "parameters": {
            CONSUMER_GROUP_PARAMETER: {
                "description": "The Kafka consumer group that dead-lettered the message.",
                "examples": ["crm" if _context(topic) == "erp" else "erp"],
            },
        },
        "messages": {message_id: {"$ref": f"#/components/messages/{message_id}"} for message_id in message_ids},
        "bindings": {"kafka": {"bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _operation(channel_id: str, message_ids: Sequence[str], *, title: str, summary: str) -> JsonObject:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel_id}"},
        "title": title,
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel_id}/messages/{message_id}"} for message_id in message_ids],
    }


def _golden_examples() -> dict[tuple[str, int], list[JsonObject]]:
    """The hand-written golden events as message examples, the plain `<type>.v<n>.json` first."""
    folder = resources.files("throughline_events").joinpath("golden")
    if not folder.is_dir():
        return {}
    goldens: list[tuple[bool, str, str, JsonObject]] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        envelope: JsonObject = json.loads(entry.read_text(encoding="utf-8"))
        name = entry.name.removesuffix(".json")
        variant = name.removeprefix(_message_id(envelope["event_type"], envelope["event_version"])).lstrip(".")
        goldens.append((bool(variant), name, variant, envelope))

    examples: dict[tuple[str, int], list[JsonObject]] = {}
    for _, name, variant, envelope in sorted(goldens, key=lambda golden: golden[:2]):
        event_type, version = envelope["event_type"], envelope["event_version"]
        headers = {"event_id": envelope["event_id"], "event_type": event_type, "event_version": str(version)}
        if envelope.get("correlation_id") is not None:
            headers["correlation_id"] = envelope["correlation_id"]
        summary = f"{event_type} v{version}" + (f" ({variant.replace('_', ' ')})" if variant else "")
        examples.setdefault((event_type, version), []).append(
            {"name": name, "summary": summary, "headers": headers, "payload": envelope}
        )
    return examples


def _doc(model: type[BaseModel]) -> tuple[str, str]:
    text = (model.__doc__ or "").strip()
    summary = text.split("\n\n", 1)[0].replace("\n", " ")
    return summary or f"{model.__name__}.", text


def _message_id(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"


def _channel_id(topic: Topic) -> str:
    first, *rest = topic.name.split(".")
    return first + "".join(part.capitalize() for part in rest)


def _context(topic: Topic) -> str:
    return topic.name.split(".", 1)[0]


def _contract_version() -> str:
    try:
        return metadata.version("throughline-events")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _yaml() -> ModuleType | None:
    try:
        return importlib.import_module("yaml")
    except ImportError:
        return None


def render(document: JsonObject, fmt: str = "auto") -> str:
    """The document as text: "yaml", "json", or "auto" (YAML when PyYAML is importable, else JSON)."""
    yaml = _yaml() if fmt in ("auto", "yaml") else None
    if fmt == "yaml" and yaml is None:
        raise RuntimeError("YAML output needs PyYAML (pip install pyyaml); use --format json instead")
    if yaml is None:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    def represent_str(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    dumper: Any = type("ContractDumper", (yaml.SafeDumper,), {"ignore_aliases": lambda self, data: True})
    dumper.add_representer(str, represent_str)
    body = yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)
    return GENERATED_NOTICE + str(body)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m throughline_events.asyncapi",
        description="Write the AsyncAPI 3.0 document of Throughline's integration events.",
    )
    parser.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    parser.add_argument(
        "--format",
        choices=("auto", "yaml", "json"),
        default="auto",
        help="auto (default): JSON for a .json output, else YAML when PyYAML is installed, else JSON",
    )
    args = parser.parse_args(argv)
    fmt: str = args.format
    output: Path | None = args.output
    if fmt == "auto" and output is not None and output.suffix == ".json":
        fmt = "json"
    try:
        text = render(build_document(), fmt)
    except RuntimeError as exc:
        parser.error(str(exc))
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
