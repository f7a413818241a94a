import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from erp.clock import today
from erp.payables import service
from erp.payables.models import Bill, BillPayment, BillStatus
from erp.payables.repository import PayablesRepository
from erp.payables.schemas import (
    ApAgingReport,
    BillHistoryOut,
    BillIn,
    BillOut,
    BillPage,
    BillPatch,
    BillPaymentIn,
    BillPaymentOut,
    DecisionIn,
    RejectionIn,
    VendorIn,
    VendorOut,
    VendorPage,
    VendorPatch,
)
from erp.policy import BillPayer, BillWriter, ExpenseApprover, Reader, VendorWriter
from throughline_events.money import round_money
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW
from throughline_messaging.uow import UnitOfWork

vendors_router = APIRouter(prefix="/api/erp/vendors", tags=["payables"])
bills_router = APIRouter(prefix="/api/erp/bills", tags=["payables"])
aging_router = APIRouter(prefix="/api/erp/reports", tags=["reports"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Currency = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]


@vendors_router.get("", response_model=VendorPage, summary="Vendors (filter `q` by name, `active`)")
async def list_vendors(uow: ReadUoW, principal: Reader, q: Annotated[str | None, Query(max_length=100)] = None,
                       active: bool | None = None, limit: Limit = 100, offset: Offset = 0) -> VendorPage:
    items, total = await PayablesRepository(uow.session).vendors(q, active, limit, offset)
    return VendorPage(items=[VendorOut.model_validate(v) for v in items], total=total, limit=limit, offset=offset)


@vendors_router.post("", status_code=201, response_model=VendorOut, summary="Add a vendor (admin, finance)")
async def create_vendor(body: VendorIn, uow: UoW, principal: VendorWriter) -> VendorOut:
    return VendorOut.model_validate(await service.create_vendor(uow, body))


@vendors_router.get("/{vendor_id}", response_model=VendorOut, summary="One vendor")
async def get_vendor(vendor_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> VendorOut:
    return VendorOut.model_validate(await service.get_vendor(uow, vendor_id))


@vendors_router.patch("/{vendor_id}", response_model=VendorOut,
                      summary="Change or deactivate (`active: false`) a vendor (admin, finance)")
async def update_vendor(vendor_id: uuid.UUID, body: VendorPatch, uow: UoW, principal: VendorWriter) -> VendorOut:
    return VendorOut.model_validate(await service.update_vendor(uow, vendor_id, body))


async def _bill_out(uow: UnitOfWork, bills: list[Bill]) -> list[BillOut]:
    names = await PayablesRepository(uow.session).vendor_names({b.vendor_id for b in bills})
    out = []
    for bill in bills:
        item = BillOut.model_validate(bill)
        item.vendor_name = names.get(bill.vendor_id, "")
        out.append(item)
    return out


@bills_router.get("", response_model=BillPage,
                  summary="Vendor bills by due date (filters `status`, `vendor_id`, `currency`, `project_id`, "
                          "`due_before`)")
async def list_bills(uow: ReadUoW, principal: Reader, status: BillStatus | None = None,
                     vendor_id: uuid.UUID | None = None, currency: Currency = None,
                     project_id: uuid.UUID | None = None, due_before: BusinessDate | None = None,
                     limit: Limit = 100, offset: Offset = 0) -> BillPage:
    filters = {"status": status, "vendor_id": vendor_id, "currency": currency, "project_id": project_id,
               "due_before": due_before}
    items, total = await PayablesRepository(uow.session).bills(filters, limit, offset)
    return BillPage(items=await _bill_out(uow, items), total=total, limit=limit, offset=offset)


@bills_router.post("", status_code=201, response_model=BillOut,
                   summary="Enter a vendor bill as a draft (admin, finance); a foreign currency needs the rate of "
                           "its bill date")
async def create_bill(body: BillIn, uow: UoW, principal: BillWriter) -> BillOut:
    return (await _bill_out(uow, [await service.create_bill(uow, principal, body)]))[0]


@bills_router.get("/{bill_id}", response_model=BillOut, summary="One bill with its lines")
async def get_bill(bill_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> BillOut:
    return (await _bill_out(uow, [await service.get_bill(uow, bill_id)]))[0]


@bills_router.patch("/{bill_id}", response_model=BillOut,
                    summary="Change a draft or rejected bill (`lines` replaces them all) (admin, finance)")
async def update_bill(bill_id: uuid.UUID, body: BillPatch, uow: UoW, principal: BillWriter) -> BillOut:
    return (await _bill_out(uow, [await service.update_bill(uow, principal, bill_id, body)]))[0]


@bills_router.delete("/{bill_id}", status_code=204, summary="Delete a draft bill (admin, finance)")
async def delete_bill(bill_id: uuid.UUID, uow: UoW, principal: BillWriter) -> Response:
    await service.delete_draft(uow, bill_id)
    return Response(status_code=204)


@bills_router.post("/{bill_id}/submit", response_model=BillOut,
                   summary="Submit a draft or rejected bill for approval (admin, finance)")
async def submit_bill(bill_id: uuid.UUID, uow: UoW, principal: BillWriter,
                      body: DecisionIn | None = None) -> BillOut:
    bill = await service.submit_bill(uow, principal, bill_id, body.comment if body else None)
    return (await _bill_out(uow, [bill]))[0]


@bills_router.post("/{bill_id}/approve", response_model=BillOut,
                   summary="Approve a submitted bill: the expenses' chain (a project manager up to the manager "
                           "limit, finance above it; nobody a bill they entered)")
async def approve_bill(bill_id: uuid.UUID, uow: UoW, principal: ExpenseApprover,
                       body: DecisionIn | None = None) -> BillOut:
    bill = await service.approve_bill(uow, principal, bill_id, body.comment if body else None)
    return (await _bill_out(uow, [bill]))[0]


@bills_router.post("/{bill_id}/reject", response_model=BillOut,
                   summary="Reject a submitted bill with the reason (same chain as approving)")
async def reject_bill(bill_id: uuid.UUID, body: RejectionIn, uow: UoW, principal: ExpenseApprover) -> BillOut:
    return (await _bill_out(uow, [await service.reject_bill(uow, principal, bill_id, body.comment)]))[0]


@bills_router.post("/{bill_id}/payments", status_code=201, response_model=BillPaymentOut,
                   summary="Record a payment on an approved bill (admin, finance): partly paid, then paid")
async def pay_bill(bill_id: uuid.UUID, body: BillPaymentIn, uow: UoW, principal: BillPayer) -> BillPaymentOut:
    payment = await service.pay_bill(uow, principal, bill_id, body)
    return _payment_out(payment, (await service.get_bill(uow, bill_id)).currency)


def _payment_out(payment: BillPayment, currency: str) -> BillPaymentOut:
    return BillPaymentOut(id=payment.id, bill_id=payment.bill_id, amount=round_money(payment.amount, currency),
                          currency=currency, paid_on=payment.paid_on, reference=payment.reference,
                          recorded_by=payment.recorded_by, created_at=payment.created_at)


@bills_router.get("/{bill_id}/payments", response_model=list[BillPaymentOut], summary="A bill's payments")
async def bill_payments(bill_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> list[BillPaymentOut]:
    bill = await service.get_bill(uow, bill_id)
    return [_payment_out(p, bill.currency) for p in await PayablesRepository(uow.session).payments(bill_id)]


@bills_router.get("/{bill_id}/history", response_model=list[BillHistoryOut],
                  summary="Who entered, submitted, decided and paid a bill, and when")
async def bill_history(bill_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> list[BillHistoryOut]:
    await service.get_bill(uow, bill_id)
    return [BillHistoryOut.model_validate(h) for h in await PayablesRepository(uow.session).history(bill_id)]


@aging_router.get("/ap-aging", response_model=ApAgingReport,
                  summary="Payables by days past due (not due, 0-30, 31-60, 61-90, 90+): approved bills, per vendor "
                          "and currency")
async def ap_aging(uow: ReadUoW, principal: Reader, as_of: BusinessDate | None = None,
                   vendor_id: uuid.UUID | None = None, currency: Currency = None) -> ApAgingReport:
    return await service.ap_aging(uow, as_of or today(), vendor_id, currency)
