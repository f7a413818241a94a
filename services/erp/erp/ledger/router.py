"""The books over HTTP: chart of accounts, journal entries, periods, and the three statements."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from erp.clock import today
from erp.ledger.chart import AccountType
from erp.ledger.models import JournalEntry, JournalLine
from erp.ledger.repository import LedgerRepository
from erp.ledger.schemas import (
    AccountIn,
    AccountOut,
    AccountPage,
    AccountPatch,
    BalanceSheet,
    Basis,
    JournalEntryOut,
    JournalEntryPage,
    JournalLineOut,
    ManualEntryIn,
    PeriodCloseIn,
    PeriodList,
    PeriodLogOut,
    PeriodOut,
    PeriodReopenIn,
    ProfitAndLoss,
    TrialBalance,
    VatReport,
)
from erp.ledger.service import accounts, journal, periods, statements, vat
from erp.ledger.service.export import DatevOptions, Format, journal_export
from erp.ledger.service.statements import Columns, Filters
from erp.people.api import names_of
from erp.policy import AccountWriter, JournalWriter, LedgerReader, PeriodCloser, PeriodReopener
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW
from throughline_messaging.uow import UnitOfWork
from throughline_platform.downloads import content_disposition
from throughline_platform.openapi import problem_responses

accounts_router = APIRouter(prefix="/api/erp/accounts", tags=["ledger"])
journal_router = APIRouter(prefix="/api/erp/journal-entries", tags=["ledger"])
periods_router = APIRouter(prefix="/api/erp/periods", tags=["ledger"])
statements_router = APIRouter(prefix="/api/erp/reports", tags=["ledger"])
exports_router = APIRouter(prefix="/api/erp/exports", tags=["ledger"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Currency = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]
Month = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="yyyy-mm")]
BasisQuery = Annotated[Basis, Query(description="currency: one currency, never converted (default); base: every "
                                                "currency in the base currency, what has no rate listed apart")]


@accounts_router.get("", response_model=AccountPage, summary="The chart of accounts, by code")
async def list_accounts(uow: ReadUoW, principal: LedgerReader, type: AccountType | None = None,
                        active: bool | None = None, q: Annotated[str | None, Query(max_length=200)] = None,
                        limit: Limit = 200, offset: Offset = 0) -> AccountPage:
    items, total = await LedgerRepository(uow.session).accounts(type=type, active=active, q=q, limit=limit,
                                                                offset=offset)
    return AccountPage(items=[AccountOut.model_validate(a) for a in items], total=total, limit=limit,
                       offset=offset)


@accounts_router.post("", response_model=AccountOut, status_code=201, summary="Add an account (finance)",
                      responses=problem_responses(409, _409="An account with this code exists"))
async def post_account(body: AccountIn, uow: UoW, principal: AccountWriter) -> AccountOut:
    return AccountOut.model_validate(await accounts.create_account(uow, body))


@accounts_router.get("/{account_id}", response_model=AccountOut, summary="One account")
async def get_account(account_id: uuid.UUID, uow: ReadUoW, principal: LedgerReader) -> AccountOut:
    return AccountOut.model_validate(await accounts.get_account(uow, account_id))


@accounts_router.patch("/{account_id}", response_model=AccountOut,
                       summary="Rename, renumber, describe or (de)activate an account (finance)",
                       responses=problem_responses(409, _409="The code is taken, or a default account would be "
                                                             "deactivated"))
async def patch_account(account_id: uuid.UUID, body: AccountPatch, uow: UoW,
                        principal: AccountWriter) -> AccountOut:
    return AccountOut.model_validate(await accounts.update_account(uow, account_id, body))


async def _entries_out(uow: UnitOfWork, entries: list[JournalEntry]) -> list[JournalEntryOut]:
    lines = await journal.with_lines(uow, entries)
    names = await names_of(uow.session, {e.created_by for e in entries if e.created_by})
    chart = {a.id: a for a in await LedgerRepository(uow.session).all_accounts()}

    def line_out(line: JournalLine) -> JournalLineOut:
        account = chart[line.account_id]
        return JournalLineOut(
            position=line.position, account_id=line.account_id, account_code=account.code,
            account_name=account.name, currency=line.currency, debit=line.debit, credit=line.credit,
            debit_base=line.debit_base, credit_base=line.credit_base, description=line.description,
            tax_rate=line.tax_rate, tax_category=line.tax_category,
            client_id=line.client_id, project_id=line.project_id, cost_center_id=line.cost_center_id)

    return [JournalEntryOut(
        id=e.id, number=e.number, entry_date=e.entry_date, fact_date=e.fact_date, source_type=e.source_type,
        source_id=e.source_id, kind=e.kind, memo=e.memo, reverses_id=e.reverses_id, created_by=e.created_by,
        created_by_name=names.get(e.created_by or ""), created_at=e.created_at,
        lines=[line_out(x) for x in lines[e.id]]) for e in entries]


@journal_router.get("", response_model=JournalEntryPage, summary="Journal entries, newest first, with their lines")
async def list_entries(uow: ReadUoW, principal: LedgerReader, date_from: BusinessDate | None = None,
                       date_to: BusinessDate | None = None,
                       source_type: Annotated[str | None, Query(max_length=30)] = None,
                       source_id: uuid.UUID | None = None, account_id: uuid.UUID | None = None,
                       limit: Limit = 50, offset: Offset = 0) -> JournalEntryPage:
    items, total = await LedgerRepository(uow.session).entries(
        date_from=date_from, date_to=date_to, source_type=source_type, source_id=source_id, account_id=account_id,
        limit=limit, offset=offset)
    return JournalEntryPage(items=await _entries_out(uow, items), total=total, limit=limit, offset=offset)


@journal_router.post("", response_model=JournalEntryOut, status_code=201,
                     summary="Post a manual entry (an adjustment; finance): balanced per currency, in an open month",
                     responses=problem_responses(422, _422="Unbalanced, an unknown or inactive account, or a "
                                                           "closed month"))
async def post_entry(body: ManualEntryIn, uow: UoW, principal: JournalWriter) -> JournalEntryOut:
    entry = await journal.create_manual_entry(uow, principal, body)
    return (await _entries_out(uow, [entry]))[0]


@journal_router.get("/{entry_id}", response_model=JournalEntryOut, summary="One journal entry")
async def get_entry(entry_id: uuid.UUID, uow: ReadUoW, principal: LedgerReader) -> JournalEntryOut:
    return (await _entries_out(uow, [await journal.get_entry(uow, entry_id)]))[0]


def _period_out(state: periods.MonthState, names: dict[str, str]) -> PeriodOut:
    period = state.period
    return PeriodOut(month=periods.label(state.month), status=state.status,
                     closed_at=period.closed_at if period and state.status == "closed" else None,
                     closed_by=period.closed_by if period and state.status == "closed" else None,
                     log=[PeriodLogOut.model_validate(x).model_copy(update={"actor_name": names.get(x.actor_id)})
                          for x in state.log])


async def _periods_out(uow: UnitOfWork, states: list[periods.MonthState]) -> list[PeriodOut]:
    """The months with their log, the actors named in one query."""
    names = await names_of(uow.session, {x.actor_id for s in states for x in s.log})
    return [_period_out(s, names) for s in states]


@periods_router.get("", response_model=PeriodList,
                    summary="The last months (12 by default) with their status and close/reopen log, newest first")
async def list_periods(uow: ReadUoW, principal: LedgerReader,
                       months: Annotated[int, Query(ge=1, le=120)] = 12) -> PeriodList:
    until = periods.month_of(today())
    since = periods.months_before(until, months - 1)
    return PeriodList(items=await _periods_out(uow, await periods.months(uow, since, until)))


async def _one(uow: UnitOfWork, month: str) -> PeriodOut:
    first = periods.parse_month(month)
    return (await _periods_out(uow, await periods.months(uow, first, first)))[0]


@periods_router.post("/{month}/close", response_model=PeriodOut,
                     summary="Close a month (finance): postings dated in it are refused (automatic ones move to the "
                             "first open month)",
                     responses=problem_responses(409, 422, _409="Already closed", _422="The month has not ended"))
async def close_period(month: Month, uow: UoW, principal: PeriodCloser,
                       body: PeriodCloseIn | None = None) -> PeriodOut:
    await periods.close_period(uow, principal, month, body.reason if body else None)
    return await _one(uow, month)


@periods_router.post("/{month}/reopen", response_model=PeriodOut,
                     summary="Reopen a closed month (finance), with the reason, which is logged",
                     responses=problem_responses(409, _409="The month is not closed"))
async def reopen_period(month: Month, body: PeriodReopenIn, uow: UoW, principal: PeriodReopener) -> PeriodOut:
    await periods.reopen_period(uow, principal, month, body.reason)
    return await _one(uow, month)


Dimension = Annotated[Columns | None, Query(description="Split the figures into a column per project or cost "
                                                        "center")]


@statements_router.get("/trial-balance", response_model=TrialBalance,
                       summary="Debits, credits and balance per account over a date range, in one currency or "
                               "all in the base currency")
async def trial_balance(uow: ReadUoW, principal: LedgerReader, date_from: BusinessDate | None = None,
                        date_to: BusinessDate | None = None, currency: Currency = None, columns: Dimension = None,
                        project_id: uuid.UUID | None = None, cost_center_id: uuid.UUID | None = None,
                        client_id: uuid.UUID | None = None, basis: BasisQuery = "currency") -> TrialBalance:
    return await statements.trial_balance(uow, date_from=date_from, date_to=date_to, currency=currency,
                                          columns=columns, filters=Filters(project_id, cost_center_id, client_id),
                                          basis=basis)


@statements_router.get("/profit-and-loss", response_model=ProfitAndLoss,
                       summary="Income and expenses over a date range, and the result, in one currency or all "
                               "in the base currency")
async def profit_and_loss(uow: ReadUoW, principal: LedgerReader, date_from: BusinessDate | None = None,
                          date_to: BusinessDate | None = None, currency: Currency = None,
                          columns: Dimension = None, project_id: uuid.UUID | None = None,
                          cost_center_id: uuid.UUID | None = None,
                          client_id: uuid.UUID | None = None, basis: BasisQuery = "currency") -> ProfitAndLoss:
    return await statements.profit_and_loss(uow, date_from=date_from, date_to=date_to, currency=currency,
                                            columns=columns, filters=Filters(project_id, cost_center_id, client_id),
                                            basis=basis)


@statements_router.get("/balance-sheet", response_model=BalanceSheet,
                       summary="Assets, liabilities and equity as of `date_to` (date_from is ignored: a balance "
                               "sheet counts from the start)")
async def balance_sheet(uow: ReadUoW, principal: LedgerReader, date_from: BusinessDate | None = None,
                        date_to: BusinessDate | None = None, currency: Currency = None,
                        project_id: uuid.UUID | None = None, cost_center_id: uuid.UUID | None = None,
                        client_id: uuid.UUID | None = None, basis: BasisQuery = "currency") -> BalanceSheet:
    return await statements.balance_sheet(uow, date_to=date_to, currency=currency,
                                          filters=Filters(project_id, cost_center_id, client_id), basis=basis)


@statements_router.get("/vat", response_model=VatReport,
                       summary="VAT per period and rate: output tax (invoices, credit notes), input tax (bills), "
                               "reverse charge apart, and the net payable; equal to the tax accounts' balances",
                       responses=problem_responses(422))
async def vat_report(uow: ReadUoW, principal: LedgerReader, date_from: BusinessDate | None = None,
                     date_to: BusinessDate | None = None, currency: Currency = None,
                     period: Annotated[vat.Period, Query(description="month or quarter")] = "month") -> VatReport:
    return await vat.vat_report(uow, date_from=date_from, date_to=date_to, currency=currency, period=period)


@exports_router.get("/journal", response_class=Response,
                    summary="The journal's lines for an accountant: CSV (our layout) or DATEV EXTF Buchungsstapel",
                    responses={200: {"content": {"text/csv": {}}}, **problem_responses(422)})
async def export_journal(
        uow: ReadUoW, principal: LedgerReader, date_from: BusinessDate | None = None,
        date_to: BusinessDate | None = None, format: Format = "csv", currency: Currency = None,
        consultant_number: Annotated[int, Query(ge=1001, le=9_999_999, description="DATEV Beraternummer")] = 1001,
        client_number: Annotated[int, Query(ge=1, le=99_999, description="DATEV Mandantennummer")] = 1,
        fiscal_year_start: Annotated[int, Query(ge=1, le=12, description="Month the fiscal year starts (where a range "
                                                                         "without date_from begins)")] = 1,
        account_length: Annotated[int | None, Query(ge=4, le=8, description="DATEV Sachkontenlänge (default: the "
                                                                        "longest account number exported, at least "
                                                                        "4)")] = None,
        clearing_account: Annotated[str | None, Query(pattern=r"^\d{1,8}$",
                                                      description="DATEV: the account multi-line entries are "
                                                                  "booked against (default: suspense)")] = None,
) -> Response:
    export = await journal_export(uow, fmt=format, date_from=date_from, date_to=date_to, currency=currency,
                                  datev=DatevOptions(consultant_number, client_number, fiscal_year_start,
                                                     account_length, clearing_account))
    return Response(export.content, media_type=export.media_type,
                    headers={"Content-Disposition": content_disposition(export.filename)})
