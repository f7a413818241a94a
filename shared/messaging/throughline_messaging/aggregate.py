"""A mixin for aggregates (ORM models) that record the integration events their changes cause."""

import itertools
from datetime import UTC, datetime
from typing import Any

from throughline_events import EventPayload

_sequence = itertools.count()


class RecordedEvent:
    """An event recorded by an aggregate, waiting for the unit of work to stage it in the outbox."""

    __slots__ = ("occurred_at", "payload", "sequence")

    def __init__(self, payload: EventPayload) -> None:
        self.payload = payload
        self.occurred_at = datetime.now(UTC)
        # Events of one transaction reach the outbox in the order they were recorded, across aggregates.
        self.sequence = next(_sequence)


class RecordsEvents:
    """Mix into an ORM model. SQLAlchemy does not call __init__ on load, hence the lazy attribute."""

    def record(self, payload: EventPayload) -> None:
        self.__dict__.setdefault("_recorded_events", []).append(RecordedEvent(payload))

    def pop_recorded_events(self) -> list[RecordedEvent]:
        events: list[RecordedEvent] = self.__dict__.pop("_recorded_events", [])
        return events


def pop_all_recorded(objects: Any) -> list[RecordedEvent]:
    seen: set[int] = set()
    events: list[RecordedEvent] = []
    for obj in objects:
        if isinstance(obj, RecordsEvents) and id(obj) not in seen:
            seen.add(id(obj))
            events.extend(obj.pop_recorded_events())
    events.sort(key=lambda e: e.sequence)
    return events
