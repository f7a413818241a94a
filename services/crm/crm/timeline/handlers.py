"""ERP facts onto the sales timeline. The consumer's inbox already makes each effect happen once."""

from crm.timeline.models import ErpFact
from throughline_events.erp import (
    InvoiceIssuedV1,
    InvoiceOverdueV1,
    InvoicePaidV1,
    InvoiceVoidedV1,
    PaymentRecordedV1,
    ProjectCreatedV1,
)
from throughline_messaging.consumer import Handler, HandlerContext


async def on_project_created(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, ProjectCreatedV1)
    _add(ctx, "project.created", p.company_id, p.deal_id,
         f"Project {p.name!r} created in the ERP with a {p.billing_type} schedule of {len(p.schedule)} items")


async def on_invoice_issued(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, InvoiceIssuedV1)
    _add(ctx, "invoice.issued", p.company_id, p.deal_id,
         f"Invoice {p.number} issued: {p.total} {p.currency}, due {p.due_date.isoformat()}")


async def on_payment_recorded(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, PaymentRecordedV1)
    _add(ctx, "payment.recorded", p.company_id, p.deal_id,
         f"Payment of {p.amount} {p.currency} on invoice {p.number}; {p.balance_due} {p.currency} still due")


async def on_invoice_paid(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, InvoicePaidV1)
    _add(ctx, "invoice.paid", p.company_id, p.deal_id, f"Invoice {p.number} paid in full ({p.total} {p.currency})")


async def on_invoice_overdue(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, InvoiceOverdueV1)
    _add(ctx, "invoice.overdue", p.company_id, p.deal_id,
         f"Invoice {p.number} is {p.days_overdue} days overdue: {p.balance_due} {p.currency} due")


async def on_invoice_voided(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, InvoiceVoidedV1)
    _add(ctx, "invoice.voided", p.company_id, p.deal_id, f"Invoice {p.number} voided")


def _add(ctx: HandlerContext, kind: str, company_id: object, deal_id: object, summary: str) -> None:
    ctx.uow.session.add(ErpFact(
        kind=kind, company_id=company_id, deal_id=deal_id, summary=summary,
        data=ctx.envelope.data, occurred_at=ctx.envelope.occurred_at, source_event_id=ctx.envelope.event_id,
    ))


HANDLERS: dict[tuple[str, int], Handler] = {
    ("project.created", 1): on_project_created,
    ("invoice.issued", 1): on_invoice_issued,
    ("payment.recorded", 1): on_payment_recorded,
    ("invoice.paid", 1): on_invoice_paid,
    ("invoice.overdue", 1): on_invoice_overdue,
    ("invoice.voided", 1): on_invoice_voided,
}
CONSUMED_TOPICS = ["erp.project.events", "erp.invoice.events"]
