"""How the consumer's fast path cuts a batch into handler calls, and which ids staged events carry."""

import uuid
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from erp.db import outbox
from throughline_events import Envelope
from throughline_events.erp import ExpenseSubmittedV1
from throughline_messaging.aggregate import Cause, RecordedEvent
from throughline_messaging.consumer import BatchingHandler, Handler, HandlerContext, _runs, _Work
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.context import bound_ids


async def _one(ctx: HandlerContext) -> None:
    pass


async def _many(uow: UnitOfWork, contexts: list[HandlerContext]) -> None:
    pass


async def _other_one(ctx: HandlerContext) -> None:
    pass


def _work(position: int, handler: Handler) -> _Work:
    envelope = Envelope(event_id=uuid.uuid4(), event_type="deal.won", event_version=1, occurred_at=datetime.now(UTC),
                        producer="crm", aggregate_type="deal", aggregate_id=uuid.uuid4(), data={})
    record = ConsumerRecord("t", 0, position, 0, 0, None, b"", None, 0, 0, [])
    return _Work(position, record, envelope, ExpenseSubmittedV1.model_validate({
        "expense_id": str(uuid.uuid4()), "amount": "1.00", "currency": "EUR", "submitted_by": "u",
        "occurred_at": "2026-11-27T10:00:00Z"}), handler)


def test_consecutive_events_of_one_batching_handler_form_one_run_and_order_is_kept() -> None:
    won, other_batching = BatchingHandler(_one, _many), BatchingHandler(_one, _many)
    handlers: list[Handler] = [won, won, _other_one, won, other_batching, other_batching, _other_one, _other_one, won]
    items = [_work(n, h) for n, h in enumerate(handlers)]
    runs = _runs(items)
    assert [[w.position for w in run] for run in runs] == [[0, 1], [2], [3], [4, 5], [6], [7], [8]]
    assert [w for run in runs for w in run] == items  # nothing lost, nothing reordered


def test_an_event_recorded_with_its_cause_carries_those_ids_whatever_is_bound() -> None:
    writer = OutboxWriter("erp", outbox, notify_channel="outbox_erp")
    payload = ExpenseSubmittedV1.model_validate({
        "expense_id": str(uuid.uuid4()), "amount": "1.00", "currency": "EUR", "submitted_by": "u",
        "occurred_at": "2026-11-27T10:00:00Z"})
    with bound_ids(correlation_id="bound-correlation", causation_id="bound-cause"):
        explicit = writer.envelope(RecordedEvent(payload, Cause("request-7", "event-7")))
        from_context = writer.envelope(RecordedEvent(payload))
    assert (explicit.correlation_id, explicit.causation_id) == ("request-7", "event-7")
    assert (from_context.correlation_id, from_context.causation_id) == ("bound-correlation", "bound-cause")


def test_a_handler_context_names_its_event_as_the_cause() -> None:
    item = _work(0, _one)
    envelope = item.envelope.model_copy(update={"correlation_id": "request-1"})
    ctx = HandlerContext(None, envelope, item.payload)  # type: ignore[arg-type]  # the uow plays no part here
    assert ctx.cause == Cause("request-1", str(envelope.event_id))
