"""Accounts payable: vendors, the bills they send, their approval (the expenses' chain: a project manager up to the
manager limit of the bill's currency, finance above it, nobody their own), payments, and AP aging.

A bill in another currency than the base currency needs the exchange rate of its bill date (a 422 without one,
nothing written): the ledger posts it in the base currency too, and the forecast converts it."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from erp.company.api import base_currency, check_country, check_currency, check_iban, check_vat_id
from erp.cost_centers.api import usable_cost_center
from erp.db import utcnow
from erp.expenses.api import ApprovalLevel, check_decision_level, check_not_own, required_approval
from erp.fx.api import rate_on
from erp.ledger.api import EntryKind, post
from erp.payables.models import (
    EDITABLE,
    PAYABLE,
    Bill,
    BillAction,
    BillHistory,
    BillLine,
    BillPayment,
    BillStatus,
    Vendor,
)
from erp.payables.repository import PayablesRepository
from erp.payables.rules import (
    BILL,
    BILL_PAYMENT,
    PAID,
    REVERSE_CHARGE,
    LineInput,
    bill_approved_lines,
    bill_paid_lines,
    bill_totals,
)
from erp.payables.schemas import (
    MAX_AMOUNT,
    ApAgingReport,
    ApAgingRow,
    ApAgingTotals,
    BillIn,
    BillLineIn,
    BillPatch,
    BillPaymentIn,
    VendorIn,
    VendorPatch,
)
from erp.projects.api import ProjectRepository
from erp.taxes.api import TaxChoice, choice_of, default_choice
from throughline_events.money import ZERO, check_amount, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, Unprocessable

AGING_BUCKETS = ("not_due", "days_0_30", "days_31_60", "days_61_90", "days_90_plus", "total")


def _field_problem(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}.", errors=[{"field": field, "message": message, "type": "vendor"}])


# --- vendors -------------------------------------------------------------------------------------


async def get_vendor(uow: UnitOfWork, vendor_id: uuid.UUID) -> Vendor:
    vendor = await PayablesRepository(uow.session).vendor(vendor_id)
    if vendor is None:
        raise NotFound(f"Vendor {vendor_id} does not exist.")
    return vendor


async def create_vendor(uow: UnitOfWork, body: VendorIn) -> Vendor:
    repo = PayablesRepository(uow.session)
    if await repo.vendor_by_name(body.name) is not None:
        raise Conflict(f"A vendor named {body.name!r} already exists.", type_slug="duplicate-vendor")
    vendor = Vendor(id=uuid.uuid4(), active=True)
    _apply_vendor(vendor, body.model_dump())
    repo.add(vendor)
    await uow.commit()
    return vendor


async def update_vendor(uow: UnitOfWork, vendor_id: uuid.UUID, body: VendorPatch) -> Vendor:
    repo = PayablesRepository(uow.session)
    vendor = await get_vendor(uow, vendor_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "currency", "payment_terms_days", "active"):
        if field in changes and changes[field] is None:
            raise _field_problem(field, "cannot be null")
    name = changes.get("name")
    if name and name.lower() != vendor.name.lower() and await repo.vendor_by_name(name) is not None:
        raise Conflict(f"A vendor named {name!r} already exists.", type_slug="duplicate-vendor")
    state = {f: getattr(vendor, f) for f in ("name", "address", "country", "vat_id", "iban", "email", "currency",
                                              "payment_terms_days")}
    state.update({k: v for k, v in changes.items() if k != "active"})
    _apply_vendor(vendor, state)
    if "active" in changes:
        vendor.active = changes["active"]
    await uow.commit()
    return vendor


def _apply_vendor(vendor: Vendor, state: dict[str, Any]) -> None:
    """Check the vendor's identifiers with the company profile's own checks (python-stdnum, schwifty) and set them
    (nothing is set if anything is wrong)."""
    checked: dict[str, Any] = {}
    for field, check in (("country", check_country), ("currency", check_currency), ("vat_id", check_vat_id),
                         ("iban", check_iban)):
        value = state.get(field)
        if value:
            try:
                checked[field] = check(value)
            except ValueError as exc:
                raise _field_problem(field, str(exc)) from None
        else:
            checked[field] = None
    if checked["currency"] is None:
        raise _field_problem("currency", "a vendor needs a currency")
    vendor.name, vendor.address, vendor.email = state["name"], state.get("address") or None, state.get("email")
    vendor.country, vendor.vat_id, vendor.iban = checked["country"], checked["vat_id"], checked["iban"]
    vendor.currency, vendor.payment_terms_days = checked["currency"], state["payment_terms_days"]


# --- bills: entering -----------------------------------------------------------------------------


async def get_bill(uow: UnitOfWork, bill_id: uuid.UUID) -> Bill:
    bill = await PayablesRepository(uow.session).bill(bill_id)
    if bill is None:
        raise NotFound(f"Bill {bill_id} does not exist.")
    return bill


async def create_bill(uow: UnitOfWork, principal: Principal, body: BillIn) -> Bill:
    repo = PayablesRepository(uow.session)
    vendor = await repo.vendor(body.vendor_id)
    if vendor is None:
        raise Unprocessable(f"Vendor {body.vendor_id} does not exist.", type_slug="unknown-vendor")
    if not vendor.active:
        raise Unprocessable(f"Vendor {vendor.name!r} is inactive: enter no new bills from it.",
                            type_slug="inactive-vendor")
    bill = Bill(id=uuid.uuid4(), vendor_id=vendor.id, status=BillStatus.DRAFT, entered_by=principal.user_id,
                amount_paid=ZERO)
    state = body.model_dump(exclude={"lines", "vendor_id"})
    state["currency"] = body.currency or vendor.currency
    await _apply_bill(uow, repo, bill, vendor, state, body.lines)
    repo.add(bill)
    _history(repo, bill, principal, BillAction.CREATED, None, BillStatus.DRAFT, None)
    await uow.commit()
    return bill


async def update_bill(uow: UnitOfWork, principal: Principal, bill_id: uuid.UUID, body: BillPatch) -> Bill:
    repo = PayablesRepository(uow.session)
    bill = await _editable(repo, bill_id)
    changes = body.model_dump(exclude_unset=True, exclude={"lines"})
    for field in ("vendor_reference", "bill_date", "currency"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"{field} cannot be null.")
    vendor = await repo.vendor(bill.vendor_id)
    assert vendor is not None  # a foreign key
    state: dict[str, Any] = {f: getattr(bill, f) for f in ("vendor_reference", "bill_date", "currency",
                                                            "project_id", "cost_center_id", "notes")}
    # A due date left out follows a changed bill date (it was derived from the terms unless given).
    state["due_date"] = None if "bill_date" in changes else bill.due_date
    state.update(changes)
    lines = body.lines if body.lines is not None else [
        BillLineIn(description=x.description, quantity=x.quantity, unit_price=x.unit_price,
                   tax_rate_id=x.tax_rate_id) for x in bill.lines]
    await _apply_bill(uow, repo, bill, vendor, state, lines)
    _history(repo, bill, principal, BillAction.UPDATED, bill.status, bill.status, None)
    await uow.commit()
    return bill


async def delete_draft(uow: UnitOfWork, bill_id: uuid.UUID) -> None:
    repo = PayablesRepository(uow.session)
    bill = await _editable(repo, bill_id)
    if bill.status != BillStatus.DRAFT:
        raise Conflict(f"Only a draft bill can be deleted; this one is {bill.status}.", type_slug="invalid-transition")
    await repo.delete(bill)
    await uow.commit()


async def _apply_bill(uow: UnitOfWork, repo: PayablesRepository, bill: Bill, vendor: Vendor, state: dict[str, Any],
                      lines: list[BillLineIn]) -> None:
    """Validate the bill's fields and lines together and set them (nothing is set if anything is wrong)."""
    currency: str = state["currency"]
    try:
        check_currency(currency)
        for line in lines:
            check_amount(line.unit_price, currency, field="unit_price")
    except ValueError as exc:
        raise Unprocessable(str(exc), type_slug="invalid-money") from None
    bill_date: date = state["bill_date"]
    due_date: date = state.get("due_date") or bill_date + timedelta(days=vendor.payment_terms_days)
    if due_date < bill_date:
        raise Unprocessable("due_date must not be before bill_date.")
    reference: str = state["vendor_reference"]
    same = await repo.bill_by_reference(vendor.id, reference)
    if same is not None and same.id != bill.id:
        raise Conflict(f"{vendor.name} bill {reference!r} is already entered.", type_slug="duplicate-bill")
    if state.get("project_id") is not None and await ProjectRepository(uow.session).get(state["project_id"]) is None:
        raise Unprocessable(f"Project {state['project_id']} does not exist.", type_slug="unknown-project")
    if state.get("cost_center_id") is not None and state["cost_center_id"] != bill.cost_center_id:
        await usable_cost_center(uow, state["cost_center_id"])
    # A foreign bill needs its day's rate: the ledger posts it in the base currency (MissingRate: a 422).
    base = await base_currency(uow.session)
    rate = (await rate_on(uow.session, currency, bill_date)).rate if base is not None and currency != base else None
    choices = [await _tax_of(uow, line) for line in lines]
    reverse_percent = await _reverse_charge_percent(uow) if any(c.category == REVERSE_CHARGE for c in choices) \
        else ZERO
    inputs = [LineInput(line.quantity, line.unit_price, choice.category, choice.percent,
                        reverse_percent if choice.category == REVERSE_CHARGE else ZERO)
              for line, choice in zip(lines, choices, strict=True)]
    totals = bill_totals(inputs, currency)
    if totals.subtotal <= 0:
        raise Unprocessable("A bill comes to more than 0: give its lines a price.", type_slug="invalid-money")
    if totals.total > MAX_AMOUNT:
        raise Unprocessable(f"A bill of {totals.total} {currency} is beyond what a bill can be "
                            f"({MAX_AMOUNT}): check the quantities and prices.", type_slug="invalid-money")
    bill.vendor_reference, bill.bill_date, bill.due_date, bill.currency = reference, bill_date, due_date, currency
    bill.exchange_rate = rate
    bill.project_id, bill.cost_center_id, bill.notes = state.get("project_id"), state.get("cost_center_id"), \
        state.get("notes")
    new_lines = [
        BillLine(id=uuid.uuid4(), position=i, description=line.description, quantity=line.quantity,
                 unit_price=line.unit_price, net=result.net, tax_rate_id=choice.rate_id, tax_percent=choice.percent,
                 tax_category=choice.category, tax_amount=result.tax, reverse_charge_percent=inp.reverse_charge_percent,
                 reverse_charge_tax=result.reverse_charge_tax)
        for i, (line, choice, inp, result) in enumerate(zip(lines, choices, inputs, totals.lines, strict=True),
                                                         start=1)]
    if bill.lines:
        # The old lines go first: the new ones take their positions (unique per bill).
        bill.lines.clear()
        await uow.session.flush()
    bill.lines = new_lines
    bill.subtotal, bill.tax_total, bill.total = totals.subtotal, totals.tax_total, totals.total
    bill.reverse_charge_tax = totals.reverse_charge_tax
    bill.balance_due = totals.total - bill.amount_paid


async def _tax_of(uow: UnitOfWork, line: BillLineIn) -> TaxChoice:
    if line.tax_rate_id is not None:
        return await choice_of(uow, line.tax_rate_id, field="lines.tax_rate_id")
    return await default_choice(uow, client_rate_id=None, client_vat_id=None, company_country=None)


async def _reverse_charge_percent(uow: UnitOfWork) -> Decimal:
    """The percent the buyer self-assesses on a reverse-charge purchase: the default rate's (0 without one)."""
    choice = await default_choice(uow, client_rate_id=None, client_vat_id=None, company_country=None)
    return choice.percent if choice.category != REVERSE_CHARGE else ZERO


# --- bills: the approval chain and payments ------------------------------------------------------


async def submit_bill(uow: UnitOfWork, principal: Principal, bill_id: uuid.UUID, comment: str | None) -> Bill:
    repo = PayablesRepository(uow.session)
    bill = await _editable(repo, bill_id)
    previous = bill.status
    bill.status, bill.submitted_at = BillStatus.SUBMITTED, utcnow()
    bill.required_approval = required_approval(bill.total, bill.currency)
    bill.decided_at = bill.decided_by = None
    _history(repo, bill, principal, BillAction.SUBMITTED, previous, BillStatus.SUBMITTED, comment)
    await uow.commit()
    return bill


async def approve_bill(uow: UnitOfWork, principal: Principal, bill_id: uuid.UUID, comment: str | None) -> Bill:
    """Approved, the bill is owed: its entry (expense and input VAT against accounts payable) is posted in the same
    transaction."""
    repo = PayablesRepository(uow.session)
    bill = await _decidable(repo, principal, bill_id, "approve")
    bill.status, bill.decided_at, bill.decided_by = BillStatus.APPROVED, utcnow(), principal.user_id
    _history(repo, bill, principal, BillAction.APPROVED, BillStatus.SUBMITTED, BillStatus.APPROVED, comment)
    await post(uow, source_type=BILL, source_id=bill.id, kind=EntryKind.APPROVED, entry_date=bill.bill_date,
               lines=bill_approved_lines(bill), memo=f"Bill {bill.vendor_reference}", project_id=bill.project_id,
               cost_center_id=bill.cost_center_id)
    await uow.commit()
    return bill


async def reject_bill(uow: UnitOfWork, principal: Principal, bill_id: uuid.UUID, comment: str) -> Bill:
    repo = PayablesRepository(uow.session)
    bill = await _decidable(repo, principal, bill_id, "reject")
    bill.status, bill.decided_at, bill.decided_by = BillStatus.REJECTED, utcnow(), principal.user_id
    _history(repo, bill, principal, BillAction.REJECTED, BillStatus.SUBMITTED, BillStatus.REJECTED, comment)
    await uow.commit()
    return bill


async def pay_bill(uow: UnitOfWork, principal: Principal, bill_id: uuid.UUID, body: BillPaymentIn) -> BillPayment:
    repo = PayablesRepository(uow.session)
    bill = await repo.bill(bill_id, for_update=True)
    if bill is None:
        raise NotFound(f"Bill {bill_id} does not exist.")
    if bill.status not in PAYABLE:
        raise Conflict(f"Payments are recorded on approved bills; this one is {bill.status}.",
                       type_slug="invalid-transition")
    try:
        amount = check_amount(body.amount, bill.currency)
    except ValueError as exc:
        raise Unprocessable(str(exc), type_slug="invalid-money") from None
    if amount > bill.balance_due:
        raise Unprocessable(f"The payment of {amount} {bill.currency} is more than the {bill.balance_due} "
                            f"{bill.currency} still owed.", type_slug="overpayment")
    if body.paid_on < bill.bill_date:
        raise Unprocessable("paid_on must not be before the bill date.")
    payment = BillPayment(id=uuid.uuid4(), bill_id=bill.id, amount=amount, paid_on=body.paid_on,
                          reference=body.reference, recorded_by=principal.user_id)
    repo.add(payment)
    previous = bill.status
    bill.amount_paid += amount
    bill.balance_due = bill.total - bill.amount_paid
    bill.status = BillStatus.PAID if bill.balance_due == 0 else BillStatus.PARTLY_PAID
    _history(repo, bill, principal, BillAction.PAYMENT, previous, bill.status, f"{amount} {bill.currency}")
    await uow.session.flush()
    await post(uow, source_type=BILL_PAYMENT, source_id=payment.id, kind=PAID, entry_date=payment.paid_on,
               lines=bill_paid_lines(bill, amount), memo=f"Payment of bill {bill.vendor_reference}",
               project_id=bill.project_id, cost_center_id=bill.cost_center_id)
    await uow.commit()
    return payment


async def _editable(repo: PayablesRepository, bill_id: uuid.UUID) -> Bill:
    bill = await repo.bill(bill_id, for_update=True)
    if bill is None:
        raise NotFound(f"Bill {bill_id} does not exist.")
    if bill.status not in EDITABLE:
        raise Conflict(f"A {bill.status.replace('_', ' ')} bill cannot be changed or submitted.",
                       type_slug="invalid-transition")
    return bill


async def _decidable(repo: PayablesRepository, principal: Principal, bill_id: uuid.UUID, verb: str) -> Bill:
    """The expenses' approval chain, asked through erp.expenses.api: the same levels, limits and rules."""
    bill = await repo.bill(bill_id, for_update=True)
    if bill is None:
        raise NotFound(f"Bill {bill_id} does not exist.")
    level = ApprovalLevel(bill.required_approval or required_approval(bill.total, bill.currency))
    check_decision_level(principal, level, bill.currency, verb, "Bills")
    if bill.status != BillStatus.SUBMITTED:
        raise Conflict(f"Only submitted bills can be decided; this one is {bill.status.replace('_', ' ')}.",
                       type_slug="invalid-transition")
    check_not_own(principal, bill.entered_by, verb, "bill")
    return bill


def _history(repo: PayablesRepository, bill: Bill, principal: Principal, action: BillAction, from_status: str | None,
             to_status: str, comment: str | None) -> None:
    repo.add(BillHistory(id=uuid.uuid4(), bill_id=bill.id, action=action, from_status=from_status,
                         to_status=to_status, actor_id=principal.user_id, actor_role=principal.role, comment=comment,
                         created_at=utcnow()))


# --- AP aging ------------------------------------------------------------------------------------


async def ap_aging(uow: UnitOfWork, as_of: date, vendor_id: uuid.UUID | None, currency: str | None) -> ApAgingReport:
    rows = await PayablesRepository(uow.session).aging(as_of, vendor_id, currency)
    items = [ApAgingRow(**{k: round_money(v, row["currency"]) if k in AGING_BUCKETS else v for k, v in row.items()})
             for row in rows]
    totals: dict[str, dict[str, Any]] = {}
    for row in items:
        sums = totals.setdefault(row.currency, {b: ZERO for b in AGING_BUCKETS} | {"bills": 0})
        for bucket in AGING_BUCKETS:
            sums[bucket] += getattr(row, bucket)
        sums["bills"] += row.bills
    return ApAgingReport(as_of=as_of, items=items,
                         totals=[ApAgingTotals(currency=cur, **sums) for cur, sums in sorted(totals.items())])


