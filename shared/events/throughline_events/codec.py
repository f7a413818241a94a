"""Bytes <-> envelope <-> payload, with errors a consumer can act on (each names why it failed)."""

from pydantic import ValidationError

from throughline_events.envelope import Envelope, EventPayload, known_versions, payload_model

MAX_EVENT_BYTES = 1_000_000


class ContractError(ValueError):
    """The message breaks the contract: retrying will not help, it belongs in the dead-letter topic."""

    reason = "contract_error"


class MalformedEvent(ContractError):
    reason = "malformed"


class UnknownEventType(ContractError):
    reason = "unknown_event_type"


class UnknownEventVersion(ContractError):
    reason = "unknown_event_version"


class InvalidPayload(ContractError):
    reason = "invalid_payload"


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def decode(raw: bytes | None) -> Envelope:
    if raw is None:
        raise MalformedEvent("message has no value")
    if len(raw) > MAX_EVENT_BYTES:
        raise MalformedEvent(f"message is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES}")
    try:
        return Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise MalformedEvent(_summary(exc)) from None


def parse_payload(envelope: Envelope) -> EventPayload:
    """The typed payload of an envelope, or a ContractError saying why it cannot be read."""
    model = payload_model(envelope.event_type, envelope.event_version)
    if model is None:
        versions = known_versions(envelope.event_type)
        if not versions:
            raise UnknownEventType(f"unknown event type {envelope.event_type!r}")
        raise UnknownEventVersion(f"{envelope.event_type} has no version {envelope.event_version} (known: {versions})")
    try:
        return model.model_validate(envelope.data)
    except ValidationError as exc:
        raise InvalidPayload(_summary(exc)) from None


def _summary(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:5]]
    return "; ".join(parts)
