import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response

from erp.clock import today
from erp.invoices import service
from erp.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from erp.invoices.repository import InvoiceRepository
from erp.invoices.rules import is_overdue
from erp.invoices.schemas import (
    CreditNoteIn,
    InvoiceIn,
    InvoiceOut,
    InvoicePage,
    InvoicePatch,
    PaymentIn,
    PaymentOut,
    PaymentPage,
    PaymentRecorded,
    VoidIn,
)
from erp.policy import CreditNoteWriter, InvoiceWriter, PaymentWriter, Reader
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.filters import MAX_FILTER_AMOUNT, check_range
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp/invoices", tags=["invoices"])


def out(invoice: Invoice) -> InvoiceOut:
    result = InvoiceOut.model_validate(invoice)
    result.overdue = is_overdue(invoice.status, invoice.due_date, invoice.balance_due, today())
    return result


@router.get("", response_model=InvoicePage,
            summary="Invoices and credit notes; `overdue=true` lists those past due (as of `as_of`, default today)",
            responses=problem_responses(422, _422="A filter is invalid, or a range's start lies after its end"))
async def list_invoices(uow: ReadUoW, principal: Reader, status: InvoiceStatus | None = None,
                        kind: InvoiceKind | None = None, client_id: uuid.UUID | None = None,
                        project_id: uuid.UUID | None = None, deal_id: uuid.UUID | None = None,
                        credit_of_id: uuid.UUID | None = None,
                        number: Annotated[str | None, Query(max_length=20)] = None,
                        overdue: bool = False, as_of: BusinessDate | None = None,
                        issued_from: BusinessDate | None = None, issued_to: BusinessDate | None = None,
                        total_min: Annotated[Decimal | None, Query(ge=0, le=MAX_FILTER_AMOUNT,
                                                                   description="total at least this")] = None,
                        total_max: Annotated[Decimal | None, Query(ge=0, le=MAX_FILTER_AMOUNT,
                                                                   description="total at most this")] = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50,
                        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> InvoicePage:
    check_range("issued_from", issued_from, "issued_to", issued_to)
    check_range("total_min", total_min, "total_max", total_max)
    items, total = await InvoiceRepository(uow.session).search(
        status=status, kind=kind, client_id=client_id, project_id=project_id, deal_id=deal_id,
        credit_of_id=credit_of_id, number=number, overdue_as_of=(as_of or today()) if overdue else None,
        issued_from=issued_from, issued_to=issued_to, limit=limit, offset=offset, total_min=total_min,
        total_max=total_max)
    return InvoicePage(items=[out(i) for i in items], total=total, limit=limit, offset=offset)


@router.post("", status_code=201, response_model=InvoiceOut, summary="Create a draft invoice with its lines")
async def create_invoice(body: InvoiceIn, uow: UoW, principal: InvoiceWriter) -> InvoiceOut:
    return out(await service.create_draft(uow, body, principal))


@router.get("/{invoice_id}", response_model=InvoiceOut, summary="One invoice or credit note")
async def get_invoice(invoice_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> InvoiceOut:
    return out(await service.get_invoice(uow, invoice_id))


@router.patch("/{invoice_id}", response_model=InvoiceOut, summary="Change a draft (lines replace all lines)",
              responses=problem_responses(409, _409="The invoice is not a draft"))
async def update_invoice(invoice_id: uuid.UUID, body: InvoicePatch, uow: UoW,
                         principal: InvoiceWriter) -> InvoiceOut:
    return out(await service.update_draft(uow, invoice_id, body))


@router.delete("/{invoice_id}", status_code=204, summary="Delete a draft (issued invoices are voided instead)",
               responses=problem_responses(409, _409="The invoice is not a draft"))
async def delete_invoice(invoice_id: uuid.UUID, uow: UoW, principal: InvoiceWriter) -> Response:
    await service.delete_draft(uow, invoice_id)
    return Response(status_code=204)


@router.post("/{invoice_id}/issue", response_model=InvoiceOut,
             summary="Issue a draft: the next gap-free number of the year, issue and due dates",
             responses=problem_responses(409, _409="The invoice is not a draft"))
async def issue_invoice(invoice_id: uuid.UUID, uow: UoW, principal: InvoiceWriter) -> InvoiceOut:
    return out(await service.issue(uow, invoice_id))


@router.post("/{invoice_id}/payments", status_code=201, response_model=PaymentRecorded,
             summary="Record a payment (partial or full; more than the balance due is refused)",
             responses=problem_responses(409,
                                         _409="The invoice is a draft, paid, credited, void or a credit note"))
async def record_payment(invoice_id: uuid.UUID, body: PaymentIn, uow: UoW,
                         principal: PaymentWriter) -> PaymentRecorded:
    payment, invoice = await service.record_payment(uow, invoice_id, body, principal)
    return PaymentRecorded(payment=PaymentOut.model_validate(payment), invoice=out(invoice))


@router.get("/{invoice_id}/payments", response_model=PaymentPage, summary="The payments of an invoice")
async def list_payments(invoice_id: uuid.UUID, uow: ReadUoW, principal: Reader,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50,
                        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> PaymentPage:
    await service.get_invoice(uow, invoice_id)
    items, total = await InvoiceRepository(uow.session).payments_of(invoice_id, limit, offset)
    return PaymentPage(items=[PaymentOut.model_validate(p) for p in items], total=total, limit=limit, offset=offset)


@router.post("/{invoice_id}/void", response_model=InvoiceOut, summary="Void an issued invoice without payments",
             responses=problem_responses(409,
                                         _409="A draft, a void invoice, a credit note or one with payments or credits"))
async def void_invoice(invoice_id: uuid.UUID, uow: UoW, principal: InvoiceWriter,
                       body: VoidIn | None = None) -> InvoiceOut:
    return out(await service.void(uow, invoice_id, body.reason if body else None))


@router.post("/{invoice_id}/credit-note", status_code=201, response_model=InvoiceOut,
             summary="Issue a credit note against an invoice; it reduces the invoice's balance",
             responses=problem_responses(409, _409="The invoice is not open, or is a credit note"))
async def create_credit_note(invoice_id: uuid.UUID, body: CreditNoteIn, uow: UoW,
                             principal: CreditNoteWriter) -> InvoiceOut:
    return out(await service.credit_note(uow, invoice_id, body, principal))
