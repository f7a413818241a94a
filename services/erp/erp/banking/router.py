import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from erp.banking import service
from erp.banking.models import LineStatus
from erp.banking.repository import BankingRepository
from erp.banking.schemas import (
    BankAccountIn,
    BankAccountOut,
    BillPaymentCandidateOut,
    CandidateOut,
    CsvMappingIn,
    CsvMappingOut,
    IgnoreIn,
    ImportResult,
    LineOut,
    LinePage,
    LinkIn,
    MatchIn,
    PaymentCandidateOut,
    PreviewOut,
    StatementOut,
    StatementPage,
)
from erp.banking.statement import MAX_STATEMENT_BYTES, Direction
from erp.policy import BankAccountWriter, BankImporter, BankMappingWriter, BankReconciler, Reader
from throughline_messaging.deps import ReadUoW, UoW

statements_router = APIRouter(prefix="/api/erp/bank-statements", tags=["banking"])
lines_router = APIRouter(prefix="/api/erp/bank-lines", tags=["banking"])
mappings_router = APIRouter(prefix="/api/erp/bank-csv-mappings", tags=["banking"])
accounts_router = APIRouter(prefix="/api/erp/bank-accounts", tags=["banking"])

StatementFile = Annotated[UploadFile, File(description="The statement: CAMT.053 (XML), MT940, or a CSV export")]
MappingId = Annotated[uuid.UUID | None, Form(description="The CSV column mapping (CSV exports only)")]


async def _read(file: UploadFile) -> bytes:
    data = await file.read(MAX_STATEMENT_BYTES + 1)  # one byte more tells a file that is too large
    if len(data) > MAX_STATEMENT_BYTES:
        raise service.too_large()
    return data


@statements_router.post(
    "", response_model=ImportResult, status_code=201,
    summary="Import a bank statement (multipart field `file`): its credits pay the open invoices they match",
    responses={200: {"model": ImportResult, "description": "Every statement of the file was imported before: "
                                                          "nothing new was recorded"}})
async def import_statement(file: StatementFile, uow: UoW, principal: BankImporter, response: Response,
                           mapping_id: MappingId = None) -> ImportResult:
    result, recorded = await service.import_statement(uow, await _read(file), file.filename, mapping_id, principal)
    if not recorded:
        response.status_code = 200
    return result


@statements_router.post("/preview", response_model=PreviewOut,
                        summary="Read a statement without importing it: its statements and first lines")
async def preview_statement(file: StatementFile, uow: ReadUoW, principal: BankImporter,
                            mapping_id: MappingId = None) -> PreviewOut:
    return await service.preview(uow, await _read(file), mapping_id)


@statements_router.get("", response_model=StatementPage, summary="Imported bank statements, newest first")
async def list_statements(uow: ReadUoW, principal: Reader,
                          account: Annotated[str | None, Query(max_length=50)] = None,
                          limit: Annotated[int, Query(ge=1, le=200)] = 50,
                          offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> StatementPage:
    repo = BankingRepository(uow.session)
    rows, total = await repo.search_statements(account, limit, offset)
    waiting = await repo.waiting_by_statement([row.id for row in rows])
    ledger_accounts = await repo.ledger_accounts_of([row.account for row in rows])
    return StatementPage(items=[service.statement_out(row, waiting.get(row.id, 0), ledger_accounts) for row in rows],
                         total=total, limit=limit, offset=offset)


@statements_router.get("/{statement_id}", response_model=StatementOut, summary="One imported bank statement")
async def get_statement(statement_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> StatementOut:
    return await service.get_statement(uow, statement_id)


@lines_router.get("", response_model=LinePage,
                  summary="Bank lines; `status=unmatched` is the reconciliation queue (oldest first)")
async def list_lines(uow: ReadUoW, principal: Reader, status: LineStatus | None = None,
                     statement_id: uuid.UUID | None = None, direction: Direction | None = None,
                     q: Annotated[str | None, Query(max_length=100, description="payer or text contains")] = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> LinePage:
    repo = BankingRepository(uow.session)
    rows, total = await repo.search_lines(status=status, statement_id=statement_id, direction=direction, q=q,
                                          limit=limit, offset=offset)
    return LinePage(items=await service.lines_out(repo, rows), total=total, limit=limit, offset=offset)


@lines_router.get("/{line_id}", response_model=LineOut, summary="One bank line, with the invoices it paid")
async def get_line(line_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> LineOut:
    return await service.get_line(uow, line_id)


@lines_router.get("/{line_id}/candidates", response_model=list[CandidateOut],
                  summary="Invoices this line may pay: named by its reference, of its amount, of its payer's clients")
async def line_candidates(line_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> list[CandidateOut]:
    return await service.candidates(uow, line_id)


@lines_router.get("/{line_id}/payment-candidates", response_model=list[PaymentCandidateOut],
                  summary="Invoice payments typed in by hand that a waiting credit may be: no line's yet")
async def payment_candidates(line_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> list[PaymentCandidateOut]:
    return await service.payment_candidates(uow, line_id)


@lines_router.get("/{line_id}/bill-payment-candidates", response_model=list[BillPaymentCandidateOut],
                  summary="Vendor bill payments a debit may be: of its amount and currency, no line's yet")
async def bill_payment_candidates(line_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> list[BillPaymentCandidateOut]:
    return await service.bill_payment_candidates(uow, line_id)


@lines_router.post("/{line_id}/match", response_model=LineOut,
                   summary="Match a waiting line by hand: the invoices it paid, amounts adding up to what is left")
async def match_line(line_id: uuid.UUID, body: MatchIn, uow: UoW, principal: BankReconciler) -> LineOut:
    return await service.match_line(uow, line_id, body, principal)


@lines_router.post("/{line_id}/ignore", response_model=LineOut,
                   summary="Set a waiting line aside (a credit that is no invoice payment, a debit that is no bill "
                           "payment), booked against an account (default 1900 suspense), with a note")
async def ignore_line(line_id: uuid.UUID, body: IgnoreIn, uow: UoW, principal: BankReconciler) -> LineOut:
    return await service.ignore_line(uow, line_id, body, principal)


@lines_router.post("/{line_id}/link", response_model=LineOut,
                   summary="Say a waiting line is a payment recorded by hand (an invoice payment, a bill payment): "
                           "linked, not posted again")
async def link_line(line_id: uuid.UUID, body: LinkIn, uow: UoW, principal: BankReconciler) -> LineOut:
    return await service.link_line(uow, line_id, body, principal)


@lines_router.post("/{line_id}/reopen", response_model=LineOut,
                   summary="Put a line set aside back in the queue (its booking reversed)")
async def reopen_line(line_id: uuid.UUID, uow: UoW, principal: BankReconciler) -> LineOut:
    return await service.reopen_line(uow, line_id, principal)


@accounts_router.get("", response_model=list[BankAccountOut],
                     summary="The bank accounts statements named, each with the ledger account it books to")
async def list_bank_accounts(uow: ReadUoW, principal: Reader) -> list[BankAccountOut]:
    return [BankAccountOut.model_validate(a) for a in await BankingRepository(uow.session).bank_accounts()]


@accounts_router.put("/{link_id}", response_model=BankAccountOut,
                     summary="Book a bank account to another ledger account from now on")
async def relink_bank_account(link_id: uuid.UUID, body: BankAccountIn, uow: UoW,
                              principal: BankAccountWriter) -> BankAccountOut:
    return BankAccountOut.model_validate(await service.relink_bank_account(uow, link_id, body))


@mappings_router.get("", response_model=list[CsvMappingOut], summary="The saved CSV column mappings")
async def list_mappings(uow: ReadUoW, principal: Reader) -> list[CsvMappingOut]:
    return [CsvMappingOut.model_validate(m) for m in await BankingRepository(uow.session).mappings()]


@mappings_router.post("", response_model=CsvMappingOut, status_code=201,
                      summary="Save how a bank's CSV export is read (per bank account)")
async def create_mapping(body: CsvMappingIn, uow: UoW, principal: BankMappingWriter) -> CsvMappingOut:
    return CsvMappingOut.model_validate(await service.create_mapping(uow, body))


@mappings_router.get("/{mapping_id}", response_model=CsvMappingOut, summary="One CSV column mapping")
async def get_mapping(mapping_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> CsvMappingOut:
    return CsvMappingOut.model_validate(await service.get_mapping(uow, mapping_id))


@mappings_router.put("/{mapping_id}", response_model=CsvMappingOut, summary="Change a CSV column mapping")
async def replace_mapping(mapping_id: uuid.UUID, body: CsvMappingIn, uow: UoW,
                          principal: BankMappingWriter) -> CsvMappingOut:
    return CsvMappingOut.model_validate(await service.replace_mapping(uow, mapping_id, body))


@mappings_router.delete("/{mapping_id}", status_code=204, summary="Delete a CSV column mapping")
async def delete_mapping(mapping_id: uuid.UUID, uow: UoW, principal: BankMappingWriter) -> Response:
    await service.delete_mapping(uow, mapping_id)
    return Response(status_code=204)
