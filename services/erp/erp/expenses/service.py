"""Expenses: the rules of entering, filing, submitting, approving, rejecting and reimbursing a cost, and of putting
billable ones on their project's invoices."""

import hashlib
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from erp.budgets.api import check_thresholds
from erp.cost_centers.api import usable_cost_center
from erp.db import utcnow
from erp.expenses.categorise import matching_rule
from erp.expenses.models import (
    EDITABLE,
    ApprovalLevel,
    CategoryRule,
    CategorySource,
    Expense,
    ExpenseBillingStatus,
    ExpenseCategory,
    ExpenseHistory,
    ExpenseReceipt,
    ExpenseStatus,
    HistoryAction,
)
from erp.expenses.repository import ExpenseRepository
from erp.expenses.schemas import CategoryIn, CategoryRuleIn, ExpenseIn, ExpensePatch
from erp.invoices.api import Invoice, InvoiceKind, InvoiceStatus, LineKind, LineSpec, append_line, locked_invoice
from erp.ledger import api as ledger
from erp.people.api import require_active_person
from erp.policy import POLICY, Action
from erp.projects.api import ProjectRepository, ProjectStatus, get_project
from erp.settings import get_settings
from erp.taxes.api import TaxCategory, TaxChoice, choice_of
from throughline_events.erp import ExpenseApprovedV1, ExpenseRejectedV1, ExpenseSubmittedV1
from throughline_events.money import check_amount, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from throughline_platform.roles import Role

# The policy's action for deciding an expense at each level of the chain (admin always may).
DECIDERS = {ApprovalLevel.MANAGER: Action.EXPENSES_APPROVE, ApprovalLevel.FINANCE: Action.EXPENSES_APPROVE_ABOVE_LIMIT}
RECEIPT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic", "image/gif"})


def required_approval(amount: Decimal, currency: str) -> ApprovalLevel:
    """The approval level an amount needs: a project manager up to the manager limit of its currency, finance above
    it and in a currency that has no limit (there are no exchange rates to compare it with)."""
    limit = get_settings().expense_manager_limit(currency)
    return ApprovalLevel.MANAGER if limit is not None and amount <= limit else ApprovalLevel.FINANCE


def receipt_required(amount: Decimal) -> bool:
    return amount > get_settings().receipt_required_above


def tax_in_gross(gross: Decimal, percent: Decimal, currency: str) -> Decimal:
    """The VAT a gross amount paid at `percent` holds: gross x r / (100 + r), rounded to the currency (a receipt
    shows the gross; the net is what remains). 0 for a zero or exempt rate."""
    if percent == 0:
        return round_money(Decimal(0), currency)
    return round_money(gross * percent / (Decimal(100) + percent), currency)


# --- reading -------------------------------------------------------------------------------------


def reads_everyones(principal: Principal) -> bool:
    """Whether the caller reads every expense (erp.read), or only their own (a member)."""
    return POLICY.allows(principal.role, Action.READ)


async def get_expense(uow: UnitOfWork, expense_id: uuid.UUID, principal: Principal) -> Expense:
    expense = await ExpenseRepository(uow.session).get(expense_id)
    if expense is None:
        raise NotFound(f"Expense {expense_id} does not exist.")
    if expense.submitted_by != principal.user_id and not reads_everyones(principal):
        raise Forbidden("A member reads their own expenses only.", type_slug="others-expense")
    return expense


async def history_of(uow: UnitOfWork, expense_id: uuid.UUID, principal: Principal) -> list[ExpenseHistory]:
    await get_expense(uow, expense_id, principal)
    return await ExpenseRepository(uow.session).history(expense_id)


async def receipt_of(uow: UnitOfWork, expense_id: uuid.UUID, principal: Principal) -> ExpenseReceipt:
    await get_expense(uow, expense_id, principal)
    receipt = await ExpenseRepository(uow.session).receipt(expense_id)
    if receipt is None:
        raise NotFound(f"Expense {expense_id} has no receipt.")
    return receipt


async def unbilled_of_project(uow: UnitOfWork, project_id: uuid.UUID, limit: int,
                              offset: int) -> tuple[list[Expense], int]:
    await get_project(uow, project_id)  # 404 for a project that does not exist, not an empty page
    return await ExpenseRepository(uow.session).search(
        filters={"project_id": project_id, "billing_status": ExpenseBillingStatus.UNBILLED}, limit=limit,
        offset=offset)


async def suggest_category(uow: UnitOfWork, merchant: str | None,
                           description: str | None) -> tuple[ExpenseCategory | None, CategoryRule | None]:
    """The category the rules would file an expense under, and the rule that decides it."""
    repo = ExpenseRepository(uow.session)
    rule = matching_rule(await repo.rules(), merchant, description)
    return (await repo.category(rule.category_id) if rule else None), rule


# --- entering an expense -------------------------------------------------------------------------


async def create_expense(uow: UnitOfWork, principal: Principal, body: ExpenseIn) -> Expense:
    await require_active_person(uow.session, principal.user_id)  # an expense is its submitter's, a person's
    expense = Expense(id=uuid.uuid4(), submitted_by=principal.user_id, submitter_email=principal.email or None,
                      status=ExpenseStatus.DRAFT, billing_status=ExpenseBillingStatus.NOT_BILLABLE, has_receipt=False)
    await _apply(uow, expense, body.model_dump(), tax_named=True)
    repo = ExpenseRepository(uow.session)
    repo.add(expense)
    _history(repo, expense, principal, HistoryAction.CREATED, None, ExpenseStatus.DRAFT, None)
    await uow.commit()
    return expense


async def update_expense(uow: UnitOfWork, principal: Principal, expense_id: uuid.UUID, body: ExpensePatch) -> Expense:
    repo = ExpenseRepository(uow.session)
    expense = await _own_editable(repo, principal, expense_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("amount", "currency", "expense_date", "billable"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"{field} cannot be null.")
    state = {f: getattr(expense, f) for f in ("amount", "currency", "expense_date", "merchant", "description",
                                               "project_id", "cost_center_id", "billable", "tax_rate_id")}
    # The category: kept if chosen by hand and not changed; otherwise the rules file it again.
    state["category_id"] = expense.category_id if expense.category_source == CategorySource.MANUAL else None
    state.update(changes)
    await _apply(uow, expense, state, tax_named="tax_rate_id" in changes)
    _history(repo, expense, principal, HistoryAction.UPDATED, expense.status, expense.status, None)
    await uow.commit()
    return expense


async def delete_draft(uow: UnitOfWork, principal: Principal, expense_id: uuid.UUID) -> None:
    """Delete a draft of one's own, with its receipt and history. Only a draft: it was never announced (the first
    event is expense.submitted) and nobody decided on it, so nothing else refers to it; a rejected expense keeps
    its decision on record."""
    repo = ExpenseRepository(uow.session)
    expense = await _own_editable(repo, principal, expense_id)
    if expense.status != ExpenseStatus.DRAFT:
        raise Conflict(f"Only a draft can be deleted; this expense is {expense.status}.",
                       type_slug="invalid-transition")
    await repo.delete(expense)
    await uow.commit()


async def _apply(uow: UnitOfWork, expense: Expense, state: dict[str, Any], *, tax_named: bool) -> None:
    """Validate the expense's fields together and set them (nothing is set if anything is wrong). `tax_named`: the
    request names `tax_rate_id` (its rate is read again); otherwise the expense keeps the tax it was saved with."""
    currency: str = state["currency"]
    try:
        amount = check_amount(state["amount"], currency)
    except ValueError as exc:
        raise Unprocessable(str(exc), type_slug="invalid-money") from None
    tax = await _tax_of(uow, expense, state.get("tax_rate_id"), named=tax_named)
    project_id, cost_center_id = state.get("project_id"), state.get("cost_center_id")
    if project_id is None and cost_center_id is None:
        raise Unprocessable("An expense needs a project_id, a cost_center_id or both.")
    if project_id is not None:
        project = await ProjectRepository(uow.session).get(project_id)
        if project is None:
            raise Unprocessable(f"Project {project_id} does not exist.", type_slug="unknown-project")
        if project.status == ProjectStatus.CANCELLED and project_id != expense.project_id:
            raise Unprocessable(f"Project {project.name!r} is cancelled: book no new costs on it.")
        if state.get("billable") and project.currency != currency:
            raise Unprocessable(f"A billable expense must be in its project's currency ({project.currency}), "
                                f"not {currency}: it is re-invoiced as is.")
    elif state.get("billable"):
        raise Unprocessable("A billable expense needs a project_id (the project it is re-invoiced to).")
    if cost_center_id is not None and cost_center_id != expense.cost_center_id:
        await usable_cost_center(uow, cost_center_id)
    repo = ExpenseRepository(uow.session)
    category_id, source = state.get("category_id"), None
    if category_id is not None:
        if await repo.category(category_id) is None:
            raise Unprocessable(f"Expense category {category_id} does not exist.", type_slug="unknown-category")
        source = CategorySource.MANUAL
    else:
        rule = matching_rule(await repo.rules(), state.get("merchant"), state.get("description"))
        if rule is not None:
            category_id, source = rule.category_id, CategorySource.RULE
    expense.amount, expense.currency, expense.expense_date = amount, currency, state["expense_date"]
    expense.merchant, expense.description = state.get("merchant"), state.get("description")
    expense.project_id, expense.cost_center_id = project_id, cost_center_id
    expense.billable = bool(state.get("billable"))
    expense.category_id, expense.category_source = category_id, source
    if tax is None:
        expense.tax_rate_id = expense.tax_percent = expense.tax_category = None
        expense.tax_amount = round_money(Decimal(0), currency)
    else:
        expense.tax_rate_id, expense.tax_percent, expense.tax_category = tax.rate_id, tax.percent, tax.category
        expense.tax_amount = tax_in_gross(amount, tax.percent, currency)


async def _tax_of(uow: UnitOfWork, expense: Expense, rate_id: uuid.UUID | None, *, named: bool) -> TaxChoice | None:
    """The tax an expense is saved with: none without a rate; the rate's percent and category as they are now when
    the request names it (it must exist and be active: 422, as for an invoice line); the snapshot the expense already
    holds when the request leaves it out, or names it again after it was archived (an edit of the amount does not
    make a draft's rate go away). Reverse charge is refused: see `_not_reverse_charge`."""
    if rate_id is None:
        return None
    kept = (TaxChoice(expense.tax_rate_id, expense.tax_percent, expense.tax_category, None)
            if rate_id == expense.tax_rate_id and expense.tax_percent is not None and expense.tax_category is not None
            else None)
    if kept is not None and not named:
        return kept
    try:
        choice = await choice_of(uow, rate_id)
    except Unprocessable:
        if kept is not None:
            return kept
        raise
    _not_reverse_charge(choice)
    return choice


def _not_reverse_charge(choice: TaxChoice) -> None:
    """An expense is a receipt: a purchase paid on the spot, whose VAT (if any) is in the amount paid, to be
    deducted. Under reverse charge no VAT was paid and the company must self-assess it at its own rate, which is
    what a vendor bill does (erp.payables: Dr 1410 / Cr 2210 at the default rate); an expense cannot, so it refuses
    rather than book a purchase whose VAT nobody declares."""
    if choice.category == TaxCategory.REVERSE_CHARGE:
        message = ("a reverse-charge rate cannot be used on an expense: an expense is a domestic purchase with the "
                   "VAT in the amount paid; a purchase from abroad on which the company owes the VAT is entered as "
                   "a vendor bill (/api/erp/bills), which self-assesses it")
        raise Unprocessable(f"tax_rate_id: {message}.", type_slug="reverse-charge-expense",
                            errors=[{"field": "tax_rate_id", "message": message, "type": "tax_rate"}])


async def attach_receipt(uow: UnitOfWork, principal: Principal, expense_id: uuid.UUID, filename: str,
                         content_type: str, data: bytes) -> ExpenseReceipt:
    repo = ExpenseRepository(uow.session)
    expense = await _own_editable(repo, principal, expense_id)
    limit = get_settings().receipt_max_bytes
    if not data:
        raise Unprocessable("The receipt file is empty.")
    if len(data) > limit:
        raise ProblemError(f"The receipt is larger than {limit} bytes.", status=413, title="Payload too large",
                           type_slug="payload-too-large")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in RECEIPT_TYPES:
        raise ProblemError(f"A receipt must be one of {', '.join(sorted(RECEIPT_TYPES))}, not {media_type!r}.",
                           status=415, title="Unsupported media type", type_slug="unsupported-media-type")
    receipt = await repo.receipt(expense.id)
    if receipt is None:
        receipt = ExpenseReceipt(expense_id=expense.id)
        repo.add(receipt)
    receipt.filename = (filename or "receipt")[-255:]
    receipt.content_type, receipt.size_bytes, receipt.data = media_type, len(data), data
    receipt.sha256 = hashlib.sha256(data).hexdigest()
    expense.has_receipt = True
    _history(repo, expense, principal, HistoryAction.RECEIPT_ATTACHED, expense.status, expense.status,
             receipt.filename)
    await uow.commit()
    return receipt


# --- the approval chain --------------------------------------------------------------------------


async def submit_expense(uow: UnitOfWork, principal: Principal, expense_id: uuid.UUID,
                         comment: str | None) -> Expense:
    repo = ExpenseRepository(uow.session)
    expense = await _own_editable(repo, principal, expense_id)
    if receipt_required(expense.amount) and not expense.has_receipt:
        raise Unprocessable(
            f"Expenses above {get_settings().receipt_required_above} {expense.currency} need a receipt: "
            f"upload one to /api/erp/expenses/{expense.id}/receipt first.", type_slug="receipt-required")
    previous, now = expense.status, utcnow()
    expense.status, expense.submitted_at = ExpenseStatus.SUBMITTED, now
    expense.required_approval = required_approval(expense.amount, expense.currency)
    expense.decided_at = expense.decided_by = None
    _history(repo, expense, principal, HistoryAction.SUBMITTED, previous, ExpenseStatus.SUBMITTED, comment)
    expense.record(ExpenseSubmittedV1(**await _fact(repo, expense, now)))
    await uow.commit()
    return expense


async def approve_expense(uow: UnitOfWork, principal: Principal, expense_id: uuid.UUID,
                          comment: str | None) -> Expense:
    repo = ExpenseRepository(uow.session)
    expense = await _decidable(repo, principal, expense_id, "approve")
    now = utcnow()
    expense.status, expense.decided_at, expense.decided_by = ExpenseStatus.APPROVED, now, principal.user_id
    expense.billing_status = (ExpenseBillingStatus.UNBILLED if expense.billable
                              else ExpenseBillingStatus.NOT_BILLABLE)
    _history(repo, expense, principal, HistoryAction.APPROVED, ExpenseStatus.SUBMITTED, ExpenseStatus.APPROVED,
             comment)
    fact = await _fact(repo, expense, now)
    expense.record(ExpenseApprovedV1(**fact, approved_by=principal.user_id, comment=comment))
    await ledger.expense_approved(uow, await _ledger_fact(uow, expense, fact["category"]))
    if expense.project_id is not None:
        await check_thresholds(uow, [expense.project_id])
    await uow.commit()
    return expense


async def reject_expense(uow: UnitOfWork, principal: Principal, expense_id: uuid.UUID, comment: str) -> Expense:
    repo = ExpenseRepository(uow.session)
    expense = await _decidable(repo, principal, expense_id, "reject")
    now = utcnow()
    expense.status, expense.decided_at, expense.decided_by = ExpenseStatus.REJECTED, now, principal.user_id
    _history(repo, expense, principal, HistoryAction.REJECTED, ExpenseStatus.SUBMITTED, ExpenseStatus.REJECTED,
             comment)
    expense.record(ExpenseRejectedV1(**await _fact(repo, expense, now), rejected_by=principal.user_id,
                                     comment=comment))
    await uow.commit()
    return expense


async def reimburse_expense(uow: UnitOfWork, principal: Principal, expense_id: uuid.UUID,
                            paid_at: datetime | None) -> Expense:
    repo = ExpenseRepository(uow.session)
    expense = await repo.get(expense_id, for_update=True)
    if expense is None:
        raise NotFound(f"Expense {expense_id} does not exist.")
    if expense.status != ExpenseStatus.APPROVED:
        raise Conflict(f"Only approved expenses are reimbursed; this one is {expense.status}.",
                       type_slug="invalid-transition")
    if expense.reimbursed_at is not None:
        raise Conflict("This expense has already been reimbursed.", type_slug="already-reimbursed")
    if paid_at is not None and paid_at.tzinfo is None:
        raise Unprocessable("paid_at needs a UTC offset.")
    expense.reimbursed_at = paid_at or utcnow()
    _history(repo, expense, principal, HistoryAction.REIMBURSED, ExpenseStatus.APPROVED, ExpenseStatus.APPROVED,
             None)
    category = await repo.category(expense.category_id) if expense.category_id else None
    await ledger.expense_reimbursed(uow, await _ledger_fact(uow, expense, category.name if category else None),
                                    expense.reimbursed_at.date())
    await uow.commit()
    return expense


async def bill_expenses(uow: UnitOfWork, principal: Principal, invoice_id: uuid.UUID,
                        expense_ids: list[uuid.UUID] | None, tax_rate: Decimal) -> list[Expense]:
    """Put approved billable expenses on a draft invoice of their project, one `expense` line each (at cost: the
    net, without the VAT the company deducts), and mark them invoiced: all of the project's unbilled expenses, or
    the ones named."""
    invoice = await locked_invoice(uow, invoice_id)
    if invoice.kind != InvoiceKind.INVOICE or invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(f"Expenses go on draft invoices; this {invoice.kind.replace('_', ' ')} is {invoice.status}.",
                       type_slug="invalid-transition")
    if invoice.project_id is None:
        raise Unprocessable("The invoice has no project: billable expenses are billed on their project's invoice.")
    repo = ExpenseRepository(uow.session)
    if expense_ids is None:
        found, _ = await repo.search(filters={"project_id": invoice.project_id,
                                              "billing_status": ExpenseBillingStatus.UNBILLED}, limit=500, offset=0)
        expenses = sorted(found, key=lambda e: (e.expense_date, e.created_at))
    else:
        expenses = []
        for expense_id in dict.fromkeys(expense_ids):
            expense = await repo.get(expense_id, for_update=True)
            if expense is None:
                raise Unprocessable(f"Expense {expense_id} does not exist.")
            expenses.append(expense)
    if not expenses:
        raise Unprocessable("There is no approved billable expense to bill on this invoice.")
    now = utcnow()
    for expense in expenses:
        if expense.billing_status != ExpenseBillingStatus.UNBILLED:
            raise Conflict(f"Expense {expense.id} is not an approved, billable, not yet invoiced expense "
                           f"({expense.status}, {expense.billing_status}).", type_slug="not-billable")
        if expense.project_id != invoice.project_id or expense.currency != invoice.currency:
            raise Unprocessable(f"Expense {expense.id} belongs to another project or currency than the invoice.")
        label = " - ".join(x for x in (expense.merchant, expense.description) if x) or "Expense"
        # At its net: the VAT in the receipt is deducted as input tax, so it is no cost to pass on; the invoice
        # charges its own output VAT on the line (decision 215).
        append_line(invoice, LineSpec(f"Expense {expense.expense_date.isoformat()}: {label}", Decimal(1),
                                      round_money(expense.net_amount, expense.currency), tax_rate,
                                      kind=LineKind.EXPENSE, expense_id=expense.id))
        expense.billing_status, expense.invoice_id, expense.invoiced_at = ExpenseBillingStatus.INVOICED, invoice.id, now
        _history(repo, expense, principal, HistoryAction.INVOICED, expense.status, expense.status, invoice.number)
    await uow.commit()
    return expenses


async def release_billed_expenses(uow: UnitOfWork, invoice: Invoice) -> None:
    """Billed work given back (registered with `erp.invoices.api.BILLED_WORK`), in the caller's transaction: when
    a draft carrying expense lines is deleted or an invoice is voided, its expenses are unbilled again and go on the
    next invoice."""
    if any(line.expense_id for line in invoice.lines):
        await ExpenseRepository(uow.session).unbill(invoice.id)


# --- categories ---------------------------------------------------------------------------------


async def create_category(uow: UnitOfWork, body: CategoryIn) -> ExpenseCategory:
    repo = ExpenseRepository(uow.session)
    if await repo.category_by_name(body.name) is not None:
        raise Conflict(f"An expense category named {body.name!r} already exists.")
    category = ExpenseCategory(id=uuid.uuid4(), name=body.name, description=body.description)
    repo.add(category)
    await uow.commit()
    return category


async def create_rule(uow: UnitOfWork, body: CategoryRuleIn) -> CategoryRule:
    repo = ExpenseRepository(uow.session)
    if await repo.category(body.category_id) is None:
        raise Unprocessable(f"Expense category {body.category_id} does not exist.", type_slug="unknown-category")
    if await repo.rule_by_pattern(body.field, body.pattern) is not None:
        raise Conflict(f"A rule for {body.pattern!r} in {body.field} already exists.")
    rule = CategoryRule(id=uuid.uuid4(), category_id=body.category_id, field=body.field, pattern=body.pattern,
                        priority=body.priority)
    repo.add(rule)
    await uow.commit()
    return rule


async def delete_rule(uow: UnitOfWork, rule_id: uuid.UUID) -> None:
    repo = ExpenseRepository(uow.session)
    rule = await repo.rule(rule_id)
    if rule is None:
        raise NotFound(f"Category rule {rule_id} does not exist.")
    await repo.delete(rule)
    await uow.commit()


# --- helpers ------------------------------------------------------------------------------------


async def _own_editable(repo: ExpenseRepository, principal: Principal, expense_id: uuid.UUID) -> Expense:
    expense = await repo.get(expense_id, for_update=True)
    if expense is None:
        raise NotFound(f"Expense {expense_id} does not exist.")
    if expense.submitted_by != principal.user_id and principal.role != Role.ADMIN:
        raise Forbidden("Only the person who entered an expense may change or submit it.")
    if expense.status not in EDITABLE:
        raise Conflict(f"A {expense.status} expense cannot be changed or submitted.", type_slug="invalid-transition")
    return expense


async def _decidable(repo: ExpenseRepository, principal: Principal, expense_id: uuid.UUID, verb: str) -> Expense:
    expense = await repo.get(expense_id, for_update=True)
    if expense is None:
        raise NotFound(f"Expense {expense_id} does not exist.")
    level = ApprovalLevel(expense.required_approval or required_approval(expense.amount, expense.currency))
    check_decision_level(principal, level, expense.currency, verb, "Expenses")
    if expense.status != ExpenseStatus.SUBMITTED:
        raise Conflict(f"Only submitted expenses can be decided; this one is {expense.status}.",
                       type_slug="invalid-transition")
    check_not_own(principal, expense.submitted_by, verb, "expense")
    return expense


def check_decision_level(principal: Principal, level: ApprovalLevel, currency: str, verb: str, what: str) -> None:
    """403 unless the principal's role may decide at `level` of the approval chain. The chain is the expenses', and
    vendor bills go through it too (erp.payables): `what` names the things decided ("Expenses", "Bills")."""
    if POLICY.allows(principal.role, DECIDERS[level]):
        return
    limit = get_settings().expense_manager_limit(currency)
    if limit is None:
        raise Forbidden(f"{what} in {currency} have no manager limit: finance {verb}s them.",
                        type_slug="approval-level")
    up_to = level == ApprovalLevel.MANAGER
    who = "a project manager or finance" if up_to else "finance"
    raise Forbidden(f"{what} {'up to' if up_to else 'above'} {limit} {currency} need {who} to {verb} them.",
                    type_slug="approval-level")


def check_not_own(principal: Principal, submitted_by: str, verb: str, what: str) -> None:
    """Nobody decides what they submitted themselves, admins included (403 `own-expense`)."""
    if submitted_by == principal.user_id:
        raise Forbidden(f"Nobody may {verb} their own {what}.", type_slug="own-expense")


async def _ledger_fact(uow: UnitOfWork, expense: Expense, category: str | None) -> ledger.ExpenseFact:
    """The expense as the books see it: its gross owed to its payer, its net on the account linked to its category
    and its input VAT at the rate it was saved with."""
    label = expense.merchant or expense.description or category or "expense"
    return ledger.ExpenseFact(
        expense.id, expense.amount, expense.currency, expense.expense_date, label[:200],
        await ledger.expense_account(uow, expense.category_id), expense.project_id, expense.cost_center_id,
        tax_amount=expense.tax_amount, tax_rate=expense.tax_percent, tax_category=expense.tax_category)


def _history(repo: ExpenseRepository, expense: Expense, principal: Principal, action: HistoryAction,
             from_status: str | None, to_status: str, comment: str | None) -> None:
    repo.add(ExpenseHistory(id=uuid.uuid4(), expense_id=expense.id, action=action, from_status=from_status,
                            to_status=to_status, actor_id=principal.user_id, actor_role=principal.role,
                            comment=comment, created_at=utcnow()))


async def _fact(repo: ExpenseRepository, expense: Expense, now: datetime) -> dict[str, Any]:
    category = await repo.category(expense.category_id) if expense.category_id else None
    return {"expense_id": expense.id, "project_id": expense.project_id, "cost_center_id": expense.cost_center_id,
            "amount": round_money(expense.amount, expense.currency), "currency": expense.currency,
            "category": category.name if category else None, "submitted_by": expense.submitted_by,
            "occurred_at": now}
