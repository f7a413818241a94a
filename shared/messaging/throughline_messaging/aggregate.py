"""A mixin for aggregates (ORM models) that record the integration events their changes cause."""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction, object_session

from throughline_events import EventPayload

_sequence = itertools.count()


@dataclass(frozen=True, slots=True)
class Cause:
    """The ids an event carries about what caused it: the conversation it belongs to and the request or
    event that made it happen."""

    correlation_id: str | None
    causation_id: str | None


class RecordedEvent:
    """An event recorded by an aggregate (or by set-based work, see `UnitOfWork.record`), waiting for the
    unit of work to stage it in the outbox.

    `cause` is None when the event belongs to the request or event being handled right now: the outbox
    writer then reads the ids bound in the context. Set-based work that handles many events at once names
    each one's cause explicitly."""

    __slots__ = ("cause", "occurred_at", "payload", "sequence")

    def __init__(self, payload: EventPayload, cause: Cause | None = None) -> None:
        self.payload = payload
        self.cause = cause
        self.occurred_at = datetime.now(UTC)
        # Events of one transaction reach the outbox in the order they were recorded, across aggregates.
        self.sequence = next(_sequence)


# The session's identity map holds clean objects weakly: an aggregate that recorded an event and was then
# dropped by the code that changed it could be garbage-collected, events and all, before the unit of work
# collects them. The session keeps a strong reference to every aggregate with events waiting.
_WAITING = "throughline_aggregates_with_events"


def _keep(session: Session, aggregate: "RecordsEvents") -> None:
    session.info.setdefault(_WAITING, {})[id(aggregate)] = aggregate


class RecordsEvents:
    """Mix into an ORM model. SQLAlchemy does not call __init__ on load, hence the lazy attribute."""

    def record(self, payload: EventPayload) -> None:
        self.__dict__.setdefault("_recorded_events", []).append(RecordedEvent(payload))
        session = object_session(self)
        if session is not None:
            _keep(session, self)

    def pop_recorded_events(self) -> list[RecordedEvent]:
        events: list[RecordedEvent] = self.__dict__.pop("_recorded_events", [])
        return events


@event.listens_for(Session, "before_flush")
def _keep_new_aggregates_with_events(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    # Aggregates that recorded before they were added to the session are caught here, before the flush
    # turns the session's strong reference to them into a weak one.
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, RecordsEvents) and obj.__dict__.get("_recorded_events"):
            _keep(session, obj)


def aggregates_with_events(session: Session) -> list[Any]:
    """Every object of the session that may hold recorded events (and forget the strong references)."""
    waiting: dict[int, Any] = session.info.pop(_WAITING, {})
    return [*session.new, *session.identity_map.values(), *waiting.values()]


def pop_all_recorded(objects: Any) -> list[RecordedEvent]:
    seen: set[int] = set()
    events: list[RecordedEvent] = []
    for obj in objects:
        if isinstance(obj, RecordsEvents) and id(obj) not in seen:
            seen.add(id(obj))
            events.extend(obj.pop_recorded_events())
    events.sort(key=lambda e: e.sequence)
    return events
