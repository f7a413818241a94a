"""Throughline's integration-event contract.

Everything another system needs to read or write our events: the envelope, the
versioned payload models, the topic registry and the JSON codec. Pydantic only;
no behaviour beyond validation lives here.
"""

# Importing the payload modules registers every (event_type, event_version).
from throughline_events import crm as crm
from throughline_events import erp as erp
from throughline_events import gateway as gateway
from throughline_events.codec import (
    ContractError,
    InvalidPayload,
    MalformedEvent,
    UnknownEventType,
    UnknownEventVersion,
    decode,
    encode,
    parse_payload,
)
from throughline_events.envelope import Envelope, EventPayload, registered_payloads
from throughline_events.topics import DEAD_LETTER_SUFFIX, TOPICS, Topic, dead_letter_topic, topic_for

__all__ = [
    "DEAD_LETTER_SUFFIX",
    "TOPICS",
    "ContractError",
    "Envelope",
    "EventPayload",
    "InvalidPayload",
    "MalformedEvent",
    "Topic",
    "UnknownEventType",
    "UnknownEventVersion",
    "crm",
    "dead_letter_topic",
    "decode",
    "encode",
    "erp",
    "gateway",
    "parse_payload",
    "registered_payloads",
    "topic_for",
]
