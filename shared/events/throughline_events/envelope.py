"""The envelope every event travels in, and the base class of the versioned payloads."""

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from throughline_events.types import UtcDateTime


class Envelope(BaseModel):
    """What goes on the wire as the message value (UTF-8 JSON)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID
    event_type: str = Field(min_length=1, examples=["deal.won"])
    event_version: int = Field(ge=1)
    occurred_at: UtcDateTime
    producer: str = Field(min_length=1, examples=["crm"])
    aggregate_type: str = Field(min_length=1, examples=["deal"])
    aggregate_id: UUID
    correlation_id: str | None = None
    causation_id: str | None = None
    data: dict[str, Any]


class EventPayload(BaseModel):
    """The `data` of one (event_type, event_version). Subclasses declare their wire names.

    Consumers ignore fields they do not know, so adding an optional field is not a new version.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    event_version: ClassVar[int]
    aggregate_type: ClassVar[str]
    aggregate_id_field: ClassVar[str]

    def aggregate_id(self) -> UUID:
        value = getattr(self, self.aggregate_id_field)
        assert isinstance(value, UUID)
        return value


P = TypeVar("P", bound=type[EventPayload])

_REGISTRY: dict[tuple[str, int], type[EventPayload]] = {}


def register(event_type: str, version: int, aggregate_type: str, id_field: str) -> Callable[[P], P]:
    """Class decorator naming a payload model's wire identity."""

    def decorate(cls: P) -> P:
        key = (event_type, version)
        if key in _REGISTRY:
            raise RuntimeError(f"{event_type} v{version} is registered twice")
        cls.event_type = event_type
        cls.event_version = version
        cls.aggregate_type = aggregate_type
        cls.aggregate_id_field = id_field
        _REGISTRY[key] = cls
        return cls

    return decorate


def registered_payloads() -> dict[tuple[str, int], type[EventPayload]]:
    return dict(_REGISTRY)


def payload_model(event_type: str, version: int) -> type[EventPayload] | None:
    return _REGISTRY.get((event_type, version))


def known_versions(event_type: str) -> list[int]:
    return sorted(v for (t, v) in _REGISTRY if t == event_type)
