import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile

from erp.expenses import service
from erp.expenses.models import ApprovalLevel, Expense, ExpenseBillingStatus, ExpenseStatus
from erp.expenses.repository import ExpenseRepository
from erp.expenses.schemas import (
    BillExpensesIn,
    CategoryIn,
    CategoryOut,
    CategoryRuleIn,
    CategoryRuleOut,
    CategorySuggestion,
    DecisionIn,
    ExpenseIn,
    ExpenseOut,
    ExpensePage,
    ExpensePatch,
    HistoryOut,
    ReceiptOut,
    ReimburseIn,
    RejectIn,
)
from erp.people.api import names_of
from erp.policy import (
    ExpenseApprover,
    ExpenseBiller,
    ExpenseCategoryWriter,
    ExpenseCreator,
    ExpenseReimburser,
    ExpenseSubmitter,
    Reader,
    WorkReader,
)
from erp.settings import get_settings
from throughline_messaging.deps import ReadUoW, UoW
from throughline_messaging.uow import UnitOfWork
from throughline_platform.downloads import content_disposition
from throughline_platform.openapi import problem_responses
from throughline_platform.problems import Forbidden

router = APIRouter(prefix="/api/erp/expenses", tags=["expenses"])
categories_router = APIRouter(prefix="/api/erp", tags=["expenses"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


async def _outs(uow: UnitOfWork, expenses: Sequence[Expense]) -> list[ExpenseOut]:
    """The expenses as answered, each submitter named from the people directory (one query for all of them)."""
    names = await names_of(uow.session, {e.submitted_by for e in expenses})
    return [ExpenseOut.model_validate(e).model_copy(update={"submitter_name": names.get(e.submitted_by)})
            for e in expenses]


async def _out(uow: UnitOfWork, expense: Expense) -> ExpenseOut:
    return (await _outs(uow, [expense]))[0]


@router.get("", response_model=ExpensePage, summary="Expenses, filterable (a member's own only)")
async def list_expenses(uow: ReadUoW, principal: WorkReader, status: ExpenseStatus | None = None,
                        project_id: uuid.UUID | None = None, cost_center_id: uuid.UUID | None = None,
                        category_id: uuid.UUID | None = None,
                        submitted_by: Annotated[str | None, Query(max_length=64)] = None,
                        mine: bool = False, billable: bool | None = None,
                        billing_status: ExpenseBillingStatus | None = None,
                        required_approval: ApprovalLevel | None = None,
                        limit: Limit = 50, offset: Offset = 0) -> ExpensePage:
    if not service.reads_everyones(principal):
        if submitted_by not in (None, principal.user_id):
            raise Forbidden("A member reads their own expenses only.", type_slug="others-expense")
        mine = True
    filters = {"status": status, "project_id": project_id, "cost_center_id": cost_center_id,
               "category_id": category_id, "submitted_by": principal.user_id if mine else submitted_by,
               "billable": billable, "billing_status": billing_status, "required_approval": required_approval}
    items, total = await ExpenseRepository(uow.session).search(filters=filters, limit=limit, offset=offset)
    return ExpensePage(items=await _outs(uow, items), total=total, limit=limit, offset=offset)


@router.post("", response_model=ExpenseOut, status_code=201,
             summary="Enter an expense as a draft (any role but viewer; it is the caller's own)")
async def post_expense(body: ExpenseIn, uow: UoW, principal: ExpenseCreator) -> ExpenseOut:
    return await _out(uow, await service.create_expense(uow, principal, body))


@router.get("/{expense_id}", response_model=ExpenseOut, summary="One expense")
async def get_expense(expense_id: uuid.UUID, uow: ReadUoW, principal: WorkReader) -> ExpenseOut:
    return await _out(uow, await service.get_expense(uow, expense_id, principal))


@router.patch("/{expense_id}", response_model=ExpenseOut,
              summary="Change a draft or rejected expense (its submitter)",
              responses=problem_responses(409, _409="The expense is submitted or decided"))
async def patch_expense(expense_id: uuid.UUID, body: ExpensePatch, uow: UoW,
                        principal: ExpenseSubmitter) -> ExpenseOut:
    return await _out(uow, await service.update_expense(uow, principal, expense_id, body))


@router.delete("/{expense_id}", status_code=204,
               summary="Delete a draft expense with its receipt (its submitter); submitted ones stay on record")
async def delete_expense(expense_id: uuid.UUID, uow: UoW, principal: ExpenseSubmitter) -> Response:
    await service.delete_draft(uow, principal, expense_id)
    return Response(status_code=204)


@router.get("/{expense_id}/history", response_model=list[HistoryOut],
            summary="Every step of the expense: created, updated, receipt, submitted, approved, rejected, reimbursed")
async def get_history(expense_id: uuid.UUID, uow: ReadUoW, principal: WorkReader) -> list[HistoryOut]:
    return [HistoryOut.model_validate(h) for h in await service.history_of(uow, expense_id, principal)]


@router.post("/{expense_id}/receipt", response_model=ReceiptOut, status_code=201,
             summary="Upload (or replace) the receipt: multipart field `file`, PDF or image (its submitter)",
             responses=problem_responses(409, 413, 415,
                                         _409="The expense is submitted or decided",
                                         _413="The receipt is larger than ERP_RECEIPT_MAX_BYTES",
                                         _415="Not a PDF or image"))
async def post_receipt(expense_id: uuid.UUID, file: Annotated[UploadFile, File()], uow: UoW,
                       principal: ExpenseSubmitter) -> ReceiptOut:
    data = await file.read(get_settings().receipt_max_bytes + 1)  # one byte more tells a file that is too large
    receipt = await service.attach_receipt(uow, principal, expense_id, file.filename or "receipt",
                                           file.content_type or "application/octet-stream", data)
    return ReceiptOut.model_validate(receipt)


@router.get("/{expense_id}/receipt", summary="The receipt file as uploaded",
            responses={200: {"content": {"application/pdf": {}, "image/*": {}}}})
async def get_receipt(expense_id: uuid.UUID, uow: ReadUoW, principal: WorkReader) -> Response:
    receipt = await service.receipt_of(uow, expense_id, principal)
    return Response(content=receipt.data, media_type=receipt.content_type,
                    headers={"Content-Disposition": content_disposition(receipt.filename, "inline"),
                             "ETag": f'"{receipt.sha256}"'})


@router.post("/{expense_id}/submit", response_model=ExpenseOut, summary="Submit for approval (its submitter)",
             responses=problem_responses(409, _409="The expense is submitted or decided"))
async def post_submit(expense_id: uuid.UUID, uow: UoW, principal: ExpenseSubmitter,
                      body: DecisionIn | None = None) -> ExpenseOut:
    return await _out(uow,
        await service.submit_expense(uow, principal, expense_id, body.comment if body else None))


@router.post("/{expense_id}/approve", response_model=ExpenseOut,
             summary="Approve: project_manager up to the manager limit, finance above it; never one's own",
             responses=problem_responses(409, _409="The expense is not submitted (decided already, or a draft)"))
async def post_approve(expense_id: uuid.UUID, uow: UoW, principal: ExpenseApprover,
                       body: DecisionIn | None = None) -> ExpenseOut:
    return await _out(uow,
        await service.approve_expense(uow, principal, expense_id, body.comment if body else None))


@router.post("/{expense_id}/reject", response_model=ExpenseOut,
             summary="Reject with a comment (same roles as approving); the submitter may fix and resubmit",
             responses=problem_responses(409, _409="The expense is not submitted (decided already, or a draft)"))
async def post_reject(expense_id: uuid.UUID, body: RejectIn, uow: UoW, principal: ExpenseApprover) -> ExpenseOut:
    return await _out(uow, await service.reject_expense(uow, principal, expense_id, body.comment))


@router.post("/{expense_id}/reimburse", response_model=ExpenseOut,
             summary="Record that an approved expense was paid back (finance)",
             responses=problem_responses(409, _409="The expense is not approved, or reimbursed already"))
async def post_reimburse(expense_id: uuid.UUID, uow: UoW, principal: ExpenseReimburser,
                         body: ReimburseIn | None = None) -> ExpenseOut:
    return await _out(uow,
        await service.reimburse_expense(uow, principal, expense_id, body.paid_at if body else None))


# --- per project, categories, rules -------------------------------------------------------------


@categories_router.get("/projects/{project_id}/unbilled-expenses", response_model=ExpensePage,
                       summary="Approved billable expenses of a project not yet on an invoice")
async def unbilled_expenses(project_id: uuid.UUID, uow: ReadUoW, principal: Reader,
                            limit: Limit = 200, offset: Offset = 0) -> ExpensePage:
    items, total = await service.unbilled_of_project(uow, project_id, limit, offset)
    return ExpensePage(items=await _outs(uow, items), total=total, limit=limit, offset=offset)


@categories_router.get("/expense-categories", response_model=list[CategoryOut], summary="Expense categories")
async def list_categories(uow: ReadUoW, principal: WorkReader) -> list[CategoryOut]:
    return [CategoryOut.model_validate(c) for c in await ExpenseRepository(uow.session).categories()]


@categories_router.post("/expense-categories", response_model=CategoryOut, status_code=201,
                        summary="Add an expense category (finance)",
                        responses=problem_responses(409, _409="A category of this name exists"))
async def post_category(body: CategoryIn, uow: UoW, principal: ExpenseCategoryWriter) -> CategoryOut:
    return CategoryOut.model_validate(await service.create_category(uow, body))


@categories_router.get("/expense-categories/suggest", response_model=CategorySuggestion,
                       summary="The category the rules would give a merchant and description")
async def suggest_category(uow: ReadUoW, principal: WorkReader,
                           merchant: Annotated[str | None, Query(max_length=200)] = None,
                           description: Annotated[str | None, Query(max_length=2000)] = None
                           ) -> CategorySuggestion:
    category, rule = await service.suggest_category(uow, merchant, description)
    return CategorySuggestion(category=CategoryOut.model_validate(category) if category else None,
                              rule=CategoryRuleOut.model_validate(rule) if rule else None)


@categories_router.get("/expense-category-rules", response_model=list[CategoryRuleOut],
                       summary="Auto-categorisation rules, in the order they are tried")
async def list_rules(uow: ReadUoW, principal: Reader) -> list[CategoryRuleOut]:
    return [CategoryRuleOut.model_validate(r) for r in await ExpenseRepository(uow.session).rules()]


@categories_router.post("/expense-category-rules", response_model=CategoryRuleOut, status_code=201,
                        summary="Add an auto-categorisation rule (finance)",
                        responses=problem_responses(409, _409="A rule for this pattern and field exists"))
async def post_rule(body: CategoryRuleIn, uow: UoW, principal: ExpenseCategoryWriter) -> CategoryRuleOut:
    return CategoryRuleOut.model_validate(await service.create_rule(uow, body))


@categories_router.delete("/expense-category-rules/{rule_id}", status_code=204,
                          summary="Remove an auto-categorisation rule (finance)")
async def remove_rule(rule_id: uuid.UUID, uow: UoW, principal: ExpenseCategoryWriter) -> Response:
    await service.delete_rule(uow, rule_id)
    return Response(status_code=204)


@categories_router.post("/invoices/{invoice_id}/expenses", response_model=list[ExpenseOut],
                        summary="Put approved billable expenses of the invoice's project on a draft invoice "
                                "(finance)",
                        responses=problem_responses(409, _409="The invoice is not a draft invoice"))
async def post_invoice_expenses(invoice_id: uuid.UUID, uow: UoW, principal: ExpenseBiller,
                                body: BillExpensesIn | None = None) -> list[ExpenseOut]:
    body = body or BillExpensesIn()
    billed = await service.bill_expenses(uow, principal, invoice_id, body.expense_ids, body.tax_rate)
    return await _outs(uow, billed)
