"""The journal: balanced entries, written once per business fact (automatic postings) or by finance (manual
adjustments). `post_all` is the one way an entry is written."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from erp.db import utcnow
from erp.fx.api import known_rates
from erp.ledger.chart import AccountRole, account_id
from erp.ledger.models import Account, EntryKind, JournalEntry, JournalLine, SourceType
from erp.ledger.repository import LedgerRepository
from erp.ledger.schemas import ManualEntryIn
from erp.ledger.service.periods import is_closed, label, month_of
from erp.settings import get_settings
from throughline_events import money
from throughline_events.erp import LedgerEntryPostedV1, LedgerLineRef
from throughline_events.money import ZERO, round_money
from throughline_messaging.aggregate import Cause
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.context import causation_id_var, correlation_id_var, request_id_var
from throughline_platform.problems import NotFound, Unprocessable


@dataclass(frozen=True, slots=True)
class PostingLine:
    """One side of an entry: a debit or a credit (the other stays 0) on an account, named by its role in the
    default chart (automatic postings) or by its id (manual entries). Dimensions left None take the entry's.

    In the base currency (docs/erp-ledger.md, currencies): the line is converted at `rate` when given (a payment's
    receivable at its invoice's rate, a bill's lines at the bill's), else at the rate of the entry's fact date;
    `debit_base`/`credit_base`, when given, are taken as they are (a reversal copies its original's). A base-only
    line (an exchange difference) is 0 in `currency` and has only a base amount. `unconverted` keeps the whole
    entry out of the base currency (the reversal of an entry that was not converted)."""

    account: AccountRole | uuid.UUID
    currency: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    description: str | None = None
    tax_rate: Decimal | None = None
    tax_category: str | None = None
    client_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    cost_center_id: uuid.UUID | None = None
    rate: Decimal | None = None
    debit_base: Decimal | None = None
    credit_base: Decimal | None = None
    unconverted: bool = False

    @property
    def has_base(self) -> bool:
        return self.debit_base is not None or self.credit_base is not None

    @property
    def base_only(self) -> bool:
        return self.debit == ZERO and self.credit == ZERO and self.has_base

    @property
    def account_id(self) -> uuid.UUID:
        return account_id(self.account) if isinstance(self.account, AccountRole) else self.account


@dataclass(frozen=True)
class Posting:
    """An entry to write for a business fact (`source_type`, `source_id`, `kind`: at most one entry each) dated
    `fact_date`. `client_id`, `project_id`, `cost_center_id` tag every line that names none itself."""

    source_type: str
    source_id: uuid.UUID | None
    kind: str
    fact_date: date
    lines: Sequence[PostingLine]
    memo: str | None = None
    created_by: str | None = None
    reverses_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    cost_center_id: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class Posted:
    entry_id: uuid.UUID
    number: int
    entry_date: date


def unbalanced(lines: Sequence[PostingLine]) -> dict[str, Decimal]:
    """Debits minus credits per currency, for the currencies where they differ."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[line.currency] += line.debit - line.credit
    return {currency: diff for currency, diff in sums.items() if diff != ZERO}


def check_lines(lines: Sequence[PostingLine], where: str = "lines") -> None:
    """Every line one-sided and positive, in a known currency and no finer than its minor unit; the entry at least
    two lines, balanced in each currency: 422 naming what is wrong, otherwise."""
    if len(lines) < 2:
        raise Unprocessable("An entry needs at least two lines (a debit and a credit).", field=where)
    for index, line in enumerate(lines):
        name = f"{where}.{index}"
        if not money.is_currency(line.currency):
            raise Unprocessable(f"{name}.currency: {line.currency!r} is not an ISO 4217 currency.",
                                field=f"{name}.currency")
        if line.debit < ZERO or line.credit < ZERO or (line.debit_base or ZERO) < ZERO \
                or (line.credit_base or ZERO) < ZERO:
            raise Unprocessable(f"{name}: amounts are positive; a credit goes in `credit`.", field=name)
        if line.base_only:  # an exchange difference: only in the base currency, on one side
            if (line.debit_base or ZERO) == ZERO and (line.credit_base or ZERO) == ZERO:
                raise Unprocessable(f"{name}: a base-only line needs a base amount.", field=name)
            continue
        if (line.debit == ZERO) == (line.credit == ZERO):
            raise Unprocessable(f"{name}: a line is either a debit or a credit, not both nor neither.", field=name)
        amount = line.debit or line.credit
        if round_money(amount, line.currency) != amount:
            raise Unprocessable(f"{name}: {amount} is finer than {line.currency}'s minor unit.", field=name)
    off = unbalanced(lines)
    if off:
        detail = ", ".join(f"{currency} debits exceed credits by {diff}" if diff > 0
                           else f"{currency} credits exceed debits by {-diff}" for currency, diff in off.items())
        raise Unprocessable(f"The entry does not balance: {detail}.", type_slug="unbalanced-entry",
                            unbalanced={c: str(d) for c, d in off.items()})


BASE_CURRENCY_KEY = "erp.ledger.base_currency"  # session.info: the base currency, asked once per session


@dataclass(frozen=True)
class Converted:
    """A line's base amounts (both None: not converted)."""

    debit_base: Decimal | None
    credit_base: Decimal | None


async def base_and_rates(session: AsyncSession, wanted: set[tuple[str, date]]
                         ) -> tuple[str | None, dict[tuple[str, date], Decimal]]:
    """The base currency (asked once per session: a posting's transaction never changes the company profile) and
    the rates of the foreign (currency, day) pairs that have one."""
    if BASE_CURRENCY_KEY in session.info:
        cached: str | None = session.info[BASE_CURRENCY_KEY]
        if cached is None or not {c for c, _ in wanted} - {cached}:
            return cached, {}  # no base currency, or all in it: no query
    base, rates = await known_rates(session, wanted)
    session.info[BASE_CURRENCY_KEY] = base
    return base, rates


def in_base(posting: Posting, lines: Sequence[PostingLine], base: str | None,
            rates: dict[tuple[str, date], Decimal]) -> tuple[list[Converted], PostingLine | None]:
    """Each line in the base currency, and the line that balances the entry in it: the difference of the rounded
    amounts (a minor unit or two), or a payment's realised exchange gain or loss (its receivable is converted at
    its invoice's rate, the bank at the day's), to 4900 gains or 6950 losses, 0 in the entry's currency.
    All or nothing: a line without a rate (or no base currency yet) leaves the whole entry unconverted."""
    none = [Converted(None, None)] * len(lines)
    if base is None or any(line.unconverted for line in lines):
        return none, None
    out = []
    for line in lines:
        if line.has_base:
            out.append(Converted(line.debit_base or ZERO, line.credit_base or ZERO))
            continue
        rate = Decimal(1) if line.currency == base else line.rate or rates.get((line.currency, posting.fact_date))
        if rate is None:
            return none, None
        out.append(Converted(round_money(line.debit * rate, base), round_money(line.credit * rate, base)))
    diff = sum(((c.debit_base or ZERO) - (c.credit_base or ZERO) for c in out), ZERO)
    if diff == ZERO:
        return out, None
    foreign = next((line.currency for line in lines if line.currency != base), base)
    if diff > ZERO:  # more debited than credited in base: a gain closes it (a credit)
        return out, PostingLine(AccountRole.FX_GAIN, foreign, debit_base=ZERO, credit_base=diff,
                                description="Exchange difference")
    return out, PostingLine(AccountRole.FX_LOSS, foreign, debit_base=-diff, credit_base=ZERO,
                            description="Exchange difference")


async def post_all(uow: UnitOfWork, postings: Sequence[Posting], *, automatic: bool = True) -> list[Posted]:
    """Write the entries not yet posted (by source and kind), in the caller's transaction, and record a
    `ledger.entry_posted` for each: one statement for them all. Lines of zero are dropped (a 0 % tax). A fact dated
    in a closed month is posted on the first open day after it when `automatic`; a manual entry there is refused."""
    postings = [p for p in postings if p.lines]
    if not postings or (automatic and not get_settings().ledger_posting):
        return []
    if not automatic:
        for posting in postings:
            if await is_closed(uow, posting.fact_date):
                raise Unprocessable(f"{label(month_of(posting.fact_date))} is closed: date the entry in an open "
                                    f"month (a correction of a closed month is a reversing entry in the open one).",
                                    type_slug="period-closed", field="entry_date")
    entries, lines, kept_lines = [], [], {}
    wanted: set[tuple[str, date]] = set()
    for posting in postings:
        kept = [line for line in posting.lines if line.debit != ZERO or line.credit != ZERO or line.base_only]
        check_lines(kept)  # an automatic posting that does not balance is a bug: refused all the same
        kept_lines[posting.id] = (posting, kept)
        wanted |= {(line.currency, posting.fact_date) for line in kept if line.rate is None and not line.has_base}
    base, rates = await base_and_rates(uow.session, wanted)
    for posting in postings:
        kept = kept_lines[posting.id][1]
        converted, balancing = in_base(posting, kept, base, rates)
        if converted and converted[0].debit_base is None:  # not converted: a base-only line means nothing then
            converted = [c for c, line in zip(converted, kept, strict=True) if not line.base_only]
            kept = [line for line in kept if not line.base_only]
        if balancing is not None:
            kept = [*kept, balancing]
            converted = [*converted, Converted(balancing.debit_base, balancing.credit_base)]
        kept_lines[posting.id] = (posting, kept)
        # Dated by its fact; the database moves it to the first open month when that one is closed (periods).
        entries.append({"id": posting.id, "entry_date": posting.fact_date, "fact_date": posting.fact_date,
                        "source_type": posting.source_type, "source_id": posting.source_id, "kind": posting.kind,
                        "memo": posting.memo, "reverses_id": posting.reverses_id, "created_by": posting.created_by})
        for position, (line, base_amounts) in enumerate(zip(kept, converted, strict=True), start=1):
            lines.append({
                "entry_id": posting.id, "position": position, "account_id": line.account_id,
                "currency": line.currency, "debit": line.debit, "credit": line.credit,
                "debit_base": base_amounts.debit_base, "credit_base": base_amounts.credit_base,
                "description": line.description[:500] if line.description else None, "tax_rate": line.tax_rate,
                "tax_category": line.tax_category, "client_id": line.client_id or posting.client_id,
                "project_id": line.project_id or posting.project_id,
                "cost_center_id": line.cost_center_id or posting.cost_center_id})
    inserted, codes = await LedgerRepository(uow.session).insert_entries(entries, lines)
    now = utcnow()
    cause = Cause(correlation_id_var.get(), causation_id_var.get() or request_id_var.get())
    posted = []
    for entry_id, (number, entry_date) in inserted.items():
        posting, kept = kept_lines[entry_id]
        posted.append(Posted(entry_id, number, entry_date))
        uow.record(LedgerEntryPostedV1(
            entry_id=entry_id, number=number, entry_date=entry_date, fact_date=posting.fact_date,
            source_type=posting.source_type, source_id=posting.source_id, kind=posting.kind, memo=posting.memo,
            created_by=posting.created_by, posted_at=now,
            lines=[LedgerLineRef(account_id=line.account_id, account_code=codes[line.account_id],
                                 debit=str(round_money(line.debit, line.currency)),
                                 credit=str(round_money(line.credit, line.currency)), currency=line.currency)
                   for line in kept if not line.base_only]), cause)  # v1 carries the entry's own currencies
    return posted


async def post_reversal(uow: UnitOfWork, *, source_type: str, source_id: uuid.UUID, of_kind: str, kind: str,
                        fact_date: date, memo: str | None) -> Posted | None:
    """The reverse of the entry (`source_type`, `source_id`, `of_kind`): each line's debit and credit swapped,
    same accounts and dimensions, dated `fact_date` (or the first open day after it). None if there is no such
    entry (a fact from before the ledger) or the reversal is already posted."""
    repo = LedgerRepository(uow.session)
    original = await repo.entry_of(source_type, source_id, of_kind)
    if original is None:
        return None
    # In the base currency too, the reversal undoes the original exactly: its base amounts swapped (none if the
    # original was not converted), whatever the rate of the reversal's day.
    lines = [PostingLine(line.account_id, line.currency, debit=line.credit, credit=line.debit,
                         description=line.description, tax_rate=line.tax_rate, tax_category=line.tax_category,
                         client_id=line.client_id, project_id=line.project_id, cost_center_id=line.cost_center_id,
                         debit_base=line.credit_base, credit_base=line.debit_base,
                         unconverted=line.debit_base is None and line.credit_base is None)
             for line in await repo.lines_of([original.id])]
    posted = await post_all(uow, [Posting(source_type, source_id, kind, fact_date, lines, memo=memo,
                                          reverses_id=original.id)])
    return posted[0] if posted else None


# --- manual entries (finance's adjustments) ---


async def create_manual_entry(uow: UnitOfWork, principal: Principal, body: ManualEntryIn) -> JournalEntry:
    """A balanced adjustment typed in by finance, with the user who made it; on active accounts, in each account's
    currency where it has one."""
    accounts = await LedgerRepository(uow.session).accounts_by_id([line.account_id for line in body.lines])
    lines = []
    for index, line in enumerate(body.lines):
        account = accounts.get(line.account_id)
        _check_account(account, line.account_id, line.currency, f"lines.{index}")
        lines.append(PostingLine(line.account_id, line.currency, debit=line.debit, credit=line.credit,
                                 description=line.description, client_id=line.client_id,
                                 project_id=line.project_id, cost_center_id=line.cost_center_id))
    check_lines(lines)
    posted = await post_all(uow, [Posting(SourceType.MANUAL, None, EntryKind.ADJUSTMENT, body.entry_date, lines,
                                          memo=body.memo, created_by=principal.user_id)], automatic=False)
    await uow.commit()
    return await get_entry(uow, posted[0].entry_id)


def _check_account(account: Account | None, wanted: uuid.UUID, currency: str, where: str) -> None:
    if account is None:
        raise Unprocessable(f"{where}.account_id: account {wanted} does not exist.", type_slug="unknown-account",
                            field=f"{where}.account_id")
    if not account.active:
        raise Unprocessable(f"{where}.account_id: account {account.code} is inactive.", type_slug="inactive-account",
                            field=f"{where}.account_id")
    if account.currency is not None and account.currency != currency:
        raise Unprocessable(f"{where}.currency: account {account.code} is kept in {account.currency}, not "
                            f"{currency}.", field=f"{where}.currency")


async def get_entry(uow: UnitOfWork, entry_id: uuid.UUID) -> JournalEntry:
    entry = await LedgerRepository(uow.session).entry(entry_id)
    if entry is None:
        raise NotFound(f"Journal entry {entry_id} does not exist.")
    return entry


async def with_lines(uow: UnitOfWork, entries: Sequence[JournalEntry]) -> dict[uuid.UUID, list[JournalLine]]:
    """The lines of these entries, in one query."""
    by_entry: dict[uuid.UUID, list[JournalLine]] = {e.id: [] for e in entries}
    if entries:
        for line in await LedgerRepository(uow.session).lines_of(list(by_entry)):
            by_entry[line.entry_id].append(line)
    return by_entry
