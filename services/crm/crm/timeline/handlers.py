"""ERP facts onto the sales timeline. The consumer's inbox already makes each effect happen once."""

import uuid
from typing import Any, cast

from sqlalchemy import Table

from crm.db import utcnow
from crm.timeline.models import ErpFact
from throughline_events.erp import (
    InvoiceDeliveryFailedV1,
    InvoiceIssuedV1,
    InvoiceOverdueV1,
    InvoicePaidV1,
    InvoiceSentV1,
    InvoiceVoidedV1,
    PaymentRecordedV1,
    ProjectCreatedV1,
)
from throughline_messaging.bulk import insert_rows
from throughline_messaging.consumer import BatchingHandler, Handler, HandlerContext
from throughline_messaging.uow import UnitOfWork

Fact = (ProjectCreatedV1 | InvoiceIssuedV1 | PaymentRecordedV1 | InvoicePaidV1 | InvoiceOverdueV1
        | InvoiceVoidedV1 | InvoiceSentV1 | InvoiceDeliveryFailedV1)


def _summary(p: Fact) -> str:
    match p:
        case ProjectCreatedV1():
            return f"Project {p.name!r} created in the ERP with a {p.billing_type} schedule of {len(p.schedule)} items"
        case InvoiceIssuedV1():
            return f"Invoice {p.number} issued: {p.total} {p.currency}, due {p.due_date.isoformat()}"
        case PaymentRecordedV1():
            return (f"Payment of {p.amount} {p.currency} on invoice {p.number}; "
                    f"{p.balance_due} {p.currency} still due")
        case InvoicePaidV1():
            return f"Invoice {p.number} paid in full ({p.total} {p.currency})"
        case InvoiceOverdueV1():
            return f"Invoice {p.number} is {p.days_overdue} days overdue: {p.balance_due} {p.currency} due"
        case InvoiceVoidedV1():
            return f"Invoice {p.number} voided"
        case InvoiceSentV1():
            return f"Invoice {p.number} sent to {', '.join(p.to)}: {p.balance_due} {p.currency} due"
        case InvoiceDeliveryFailedV1():
            what = "The reminder for invoice" if p.mail_kind == "reminder" else "Invoice"
            verdict = "was refused by the recipient's server" if p.outcome == "bounced" else "could not be delivered"
            reason = f" ({p.error})" if p.error else ""
            return f"{what} {p.number} to {', '.join(p.recipients)} {verdict}{reason}"


def _fact_row(ctx: HandlerContext) -> dict[str, Any]:
    p = ctx.payload
    assert isinstance(p, Fact)  # the consumer routes only the types registered below here
    now = utcnow()
    return {"id": uuid.uuid4(), "kind": p.event_type, "company_id": p.company_id, "deal_id": p.deal_id,
            "summary": _summary(p), "data": ctx.envelope.data, "occurred_at": ctx.envelope.occurred_at,
            "source_event_id": ctx.envelope.event_id, "created_at": now, "updated_at": now}


async def on_erp_fact(ctx: HandlerContext) -> None:
    ctx.uow.session.add(ErpFact(**_fact_row(ctx)))


async def on_erp_facts(uow: UnitOfWork, contexts: list[HandlerContext]) -> None:
    """The same rows for a run of ERP events, in one statement instead of a flush per event."""
    await insert_rows(uow.session, cast(Table, ErpFact.__table__), [_fact_row(ctx) for ctx in contexts])


# One handler for every kind of fact, so that a run mixing them (an invoice issued, then paid) is one call.
_ERP_FACTS = BatchingHandler(one=on_erp_fact, batch=on_erp_facts)
HANDLERS: dict[tuple[str, int], Handler] = {
    (fact.event_type, fact.event_version): _ERP_FACTS
    for fact in (ProjectCreatedV1, InvoiceIssuedV1, PaymentRecordedV1, InvoicePaidV1, InvoiceOverdueV1,
                 InvoiceVoidedV1, InvoiceSentV1, InvoiceDeliveryFailedV1)
}
CONSUMED_TOPICS = ["erp.project.events", "erp.invoice.events"]
