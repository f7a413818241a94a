"""An aggregate that recorded an event must not lose it when the code that changed it lets go of it."""

import gc
import uuid

from sqlalchemy import String, Uuid, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from throughline_events.erp import ExpenseSubmittedV1
from throughline_messaging.aggregate import RecordsEvents, aggregates_with_events, pop_all_recorded


class _Base(DeclarativeBase):
    pass


class _Thing(RecordsEvents, _Base):
    __tablename__ = "things"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(10))


def _payload(thing_id: uuid.UUID) -> ExpenseSubmittedV1:
    return ExpenseSubmittedV1.model_validate({
        "expense_id": str(thing_id), "amount": "1.00", "currency": "EUR", "submitted_by": "u",
        "occurred_at": "2026-11-27T10:00:00Z"})


def _change_and_forget(session: Session) -> None:
    thing = _Thing(id=uuid.uuid4(), name="x")
    session.add(thing)
    thing.record(_payload(thing.id))
    session.flush()  # now persistent and clean: the identity map holds it only weakly


def test_events_of_aggregates_nobody_holds_any_more_are_still_collected() -> None:
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as session:
        _change_and_forget(session)
        gc.collect()
        events = pop_all_recorded(aggregates_with_events(session))
        assert [e.payload.event_type for e in events] == ["expense.submitted"]
        assert pop_all_recorded(aggregates_with_events(session)) == []  # popped once, not twice
