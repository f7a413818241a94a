"""Bank reconciliation: import a statement, match its credits to open invoices and record their payments, and
let a person settle what matching left (docs/erp-invoicing-out.md, "Reconciliation").

An import is one transaction: the statement, its new lines, the payments they made and the matches commit
together, or nothing does. The same statement imported again (or twice at once) records nothing twice: a
statement is claimed by its fingerprint and a line by its transaction's identity on the account, both unique in
the database, and a second importer waits for the first to commit and then finds them taken.
"""

import asyncio
import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from erp.banking import books, camt053, csv_statement, mt940
from erp.banking.matching import (
    Allocation,
    Credit,
    Decision,
    Matcher,
    MatchMethod,
    OpenInvoice,
    rf_references,
    similar_names,
)
from erp.banking.models import BankCsvMapping, BankLedgerAccount, BankLine, BankStatement, LineStatus
from erp.banking.payments_in_bulk import Paying, record_payments
from erp.banking.repository import BankingRepository, CandidateRow, LineOutcome
from erp.banking.schemas import (
    BankAccountIn,
    BillPaymentCandidateOut,
    CandidateOut,
    CsvMappingIn,
    IgnoreIn,
    ImportedStatement,
    ImportResult,
    LineOut,
    LinkIn,
    MatchIn,
    MatchOut,
    PaymentCandidateOut,
    PreviewLine,
    PreviewOut,
    PreviewStatement,
    StatementOut,
)
from erp.banking.statement import (
    MAX_STATEMENT_BYTES,
    Direction,
    ParsedStatement,
    StatementError,
    StatementFormat,
    StatementLine,
)
from erp.clients.api import ClientRepository
from erp.clock import today
from erp.db import utcnow
from erp.invoices.api import OPEN_STATUSES, PaymentMethod, apply_payment
from erp.ledger.api import AccountRole, AccountType, SourceType, account_balance, account_id, usable_account
from erp.payables.api import BILL_PAYMENT
from throughline_events import money
from throughline_events.money import ZERO
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, ProblemError, Unprocessable

# --- reading the upload ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    format: StatementFormat
    statements: list[ParsedStatement]
    mapping_id: uuid.UUID | None


def too_large() -> ProblemError:
    return ProblemError(f"A statement may be at most {MAX_STATEMENT_BYTES} bytes.", status=413,
                        title="Payload too large", type_slug="payload-too-large")


async def read_upload(uow: UnitOfWork, data: bytes, mapping_id: uuid.UUID | None) -> Upload:
    """The statements in the file, or a 422 naming the line or element that is wrong (nothing is imported).
    A CSV export needs its column mapping; CAMT.053 and MT940 are recognised by their content."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise too_large()
    if not data.strip():
        raise Unprocessable("The statement file is empty.", type_slug="bad-statement")
    if mapping_id is not None:
        saved = await BankingRepository(uow.session).mapping(mapping_id)
        if saved is None:
            raise Unprocessable(f"CSV mapping {mapping_id} does not exist.")
        mapping = _csv_mapping(saved)
        return Upload(StatementFormat.CSV, await _parsed(lambda: csv_statement.parse(data, mapping)), mapping_id)
    if camt053.looks_like_camt(data):
        return Upload(StatementFormat.CAMT053, await _parsed(lambda: camt053.parse(data)), None)
    if mt940.looks_like_mt940(data):
        return Upload(StatementFormat.MT940, await _parsed(lambda: mt940.parse(data)), None)
    raise Unprocessable("The file is neither a CAMT.053 (XML) nor an MT940 statement; for a bank's CSV export, "
                        "choose its column mapping (mapping_id).", type_slug="bad-statement")


async def _parsed(parse: Any) -> list[ParsedStatement]:
    """Parse off the event loop (a day of 10,000 entries takes about a second of CPU)."""
    try:
        statements: list[ParsedStatement] = await asyncio.to_thread(parse)
    except StatementError as exc:
        raise Unprocessable(f"The statement cannot be imported: {exc}. Nothing was imported.",
                            type_slug="bad-statement", location=exc.where) from None
    return statements


def _csv_mapping(saved: BankCsvMapping) -> csv_statement.CsvMapping:
    columns = csv_statement.CsvColumns(**saved.columns)
    return csv_statement.CsvMapping(
        account=saved.account, columns=columns, currency=saved.currency, delimiter=saved.delimiter,  # type: ignore[arg-type]
        decimal_separator=saved.decimal_separator, date_format=saved.date_format,  # type: ignore[arg-type]
        encoding=saved.encoding)  # type: ignore[arg-type]


# --- importing ---------------------------------------------------------------------------------------------


# Payments recorded (and their events staged) per step of an import.
PAYMENTS_PER_STEP = 1000


@dataclass(frozen=True)
class _NewLine:
    id: uuid.UUID
    statement_id: uuid.UUID
    line: StatementLine
    bank_account: uuid.UUID  # its bank account's ledger account


async def import_statement(uow: UnitOfWork, data: bytes, file_name: str | None, mapping_id: uuid.UUID | None,
                           principal: Principal) -> tuple[ImportResult, bool]:
    """Import every statement of the file; the result, and whether anything new was recorded."""
    upload = await read_upload(uow, data, mapping_id)
    digest = hashlib.sha256(data).hexdigest()
    del data  # the file (up to 32 MB) is read: its lines are what the import keeps working with
    repo = BankingRepository(uow.session)
    taken: list[tuple[ParsedStatement, uuid.UUID, bool]] = []  # statement, its row, imported before
    new_lines: list[_NewLine] = []
    for statement in upload.statements:
        statement_id = uuid.uuid4()
        if not await repo.claim_statement(_statement_row(statement, statement_id, file_name, digest, upload,
                                                         principal)):
            existing = await repo.statement_by_fingerprint(statement.fingerprint)
            assert existing is not None  # the conflict was with a committed statement
            taken.append((statement, existing.id, True))
            continue
        taken.append((statement, statement_id, False))
        bank, linked_now = await books.bank_ledger_account(uow, repo, statement.account, statement.currency)
        if linked_now:  # the account's first statement: the ledger starts from its opening balance
            row = await repo.statement(statement_id)
            assert row is not None
            await books.post_opening(uow, row, bank)
        inserted = await repo.insert_new_lines(_line_rows(statement, statement_id))
        new_lines += [_NewLine(inserted[line.transaction_key], statement_id, line, bank) for line in statement.lines
                      if line.transaction_key in inserted]
    decisions = await _match_and_pay(uow, repo, new_lines, principal)
    counts = await _record_outcomes(repo, taken, new_lines, decisions)
    await uow.commit()
    result = await _result(repo, upload.format, taken, counts, decisions)
    return result, any(not before for _, _, before in taken)


def _statement_row(statement: ParsedStatement, statement_id: uuid.UUID, file_name: str | None, digest: str,
                   upload: Upload, principal: Principal) -> dict[str, Any]:
    booked = [line.booking_date for line in statement.lines]
    now = utcnow()
    return {"id": statement_id, "format": statement.format, "account": statement.account,
            "currency": statement.currency, "statement_id": (statement.statement_id or "")[:100] or None,
            "opening_balance": statement.opening_balance, "opening_date": statement.opening_date,
            "closing_balance": statement.closing_balance, "closing_date": statement.closing_date,
            "first_booking_date": min(booked, default=None), "last_booking_date": max(booked, default=None),
            "fingerprint": statement.fingerprint, "file_name": (file_name or "")[-255:] or None,
            "file_sha256": digest, "mapping_id": upload.mapping_id, "line_count": len(statement.lines),
            "imported_by": principal.user_id, "created_at": now, "updated_at": now}


def _line_rows(statement: ParsedStatement, statement_id: uuid.UUID) -> list[dict[str, Any]]:
    """The lines' columns (the id, the timestamps and the amount applied are the database's defaults)."""
    return [{"statement_id": statement_id, "account": statement.account,
             "transaction_key": line.transaction_key, "position": n, "direction": line.direction,
             "amount": line.amount, "currency": line.currency, "booking_date": line.booking_date,
             "value_date": line.value_date, "counterparty_name": line.counterparty_name,
             "counterparty_iban": line.counterparty_iban,
             "structured_reference": " ".join(line.structured_references)[:500] or None,
             "remittance": line.remittance or None, "bank_reference": (line.bank_reference or "")[:100] or None,
             "end_to_end_id": (line.end_to_end_id or "")[:100] or None, "reversal": line.reversal,
             "status": LineStatus.UNMATCHED if line.direction is Direction.CREDIT else LineStatus.DEBIT}
            for n, line in enumerate(statement.lines, 1)]


def _references(line: StatementLine) -> tuple[str, ...]:
    return rf_references([*line.structured_references, line.remittance])


async def _match_and_pay(uow: UnitOfWork, repo: BankingRepository, new_lines: list[_NewLine],
                         principal: Principal) -> dict[uuid.UUID, Decision]:
    """Decide every new credit in file order against the candidates locked for this import, then record the
    payments through the invoices package (its rules, its events), in this transaction."""
    credits = [(new, Credit(new.line.amount, new.line.currency, new.line.booking_date, _references(new.line),
                            new.line.counterparty_name, new.line.counterparty_iban, new.line.reversal))
               for new in new_lines if new.line.direction is Direction.CREDIT]
    if not credits:
        return {}
    references = sorted({ref for _, credit in credits for ref in credit.references})
    amounts = sorted({credit.amount for _, credit in credits})
    candidates = await repo.lock_candidates(references, amounts)
    payers = await repo.known_payers(sorted({c.payer_iban for _, c in credits if c.payer_iban}))
    matcher = Matcher([_open_invoice(row) for row in candidates], payers, today())
    decisions = {new.id: matcher.decide(credit) for new, credit in credits}
    paying = [Paying(new.id, new.line, decisions[new.id], new.bank_account) for new, _ in credits
              if decisions[new.id].allocations]
    locked = {row.id: row for row in candidates}
    for start in range(0, len(paying), PAYMENTS_PER_STEP):
        matches = await record_payments(uow, repo, locked, paying[start:start + PAYMENTS_PER_STEP], principal.user_id)
        await repo.add_matches(matches)
        # Into the outbox as they are made (same transaction; the relays are woken at COMMIT): 10,000 payments
        # make 20,000 events, which would otherwise all wait in memory for the commit.
        await uow.stage_events()
    return decisions


def _open_invoice(row: CandidateRow) -> OpenInvoice:
    return OpenInvoice(id=row.id, number=row.number, client_id=row.client_id, client_name=row.client_name,
                       currency=row.currency, balance_due=money.round_money(row.balance_due, row.currency),
                       is_open=row.status in OPEN_STATUSES, payment_reference=row.payment_reference,
                       status=row.status)


async def _pay_by_hand(uow: UnitOfWork, repo: BankingRepository, line: BankLine, allocations: list[Allocation],
                       recorded_by: str, bank: uuid.UUID) -> None:
    """A person's match: each allocation a payment through the invoices package's own path (`apply_payment`, a
    few at a time), on its invoice locked here in id order; and the matches."""
    invoices = await repo.invoices([a.invoice_id for a in allocations], lock=True)
    # Held here: the session's identity map keeps loaded objects only weakly, and the invoices package finds each
    # invoice's client there (for its events) instead of asking the database again.
    clients = await ClientRepository(uow.session).by_ids({invoice.client_id for invoice in invoices.values()})
    matches = []
    now = utcnow()
    reference = (line.bank_reference or line.end_to_end_id or line.transaction_key)[:200]
    for allocation in allocations:
        invoice = invoices.get(allocation.invoice_id)
        if invoice is None:
            raise Unprocessable(f"Invoice {allocation.invoice_id} does not exist.")
        try:
            payment = await apply_payment(uow, invoice, allocation.amount, line.booking_date,
                                          PaymentMethod.BANK_TRANSFER, reference, recorded_by, currency=line.currency)
        except ProblemError as exc:
            exc.extensions.setdefault("invoice_id", str(invoice.id))
            raise
        matches.append({"id": uuid.uuid4(), "line_id": line.id, "invoice_id": invoice.id, "payment_id": payment.id,
                        "amount": allocation.amount, "method": MatchMethod.MANUAL, "matched_by": recorded_by,
                        "created_at": now, "updated_at": now})
        # `apply_payment` books the payment on 1000 Bank (as one typed by hand): moved to the line's account.
        await books.move_to_line_account(uow, source_type=SourceType.PAYMENT, source_id=payment.id, line=line,
                                         bank=bank, amount=allocation.amount, on=line.booking_date)
    await uow.session.flush()  # the payments exist before the matches that name them
    await repo.add_matches(matches)
    del clients


async def _record_outcomes(repo: BankingRepository, taken: list[tuple[ParsedStatement, uuid.UUID, bool]],
                           new_lines: list[_NewLine], decisions: dict[uuid.UUID, Decision]
                           ) -> Counter[str]:
    """Write each new credit's outcome and each new statement's counts; the counts of the whole file."""
    outcomes = []
    per_statement: dict[uuid.UUID, Counter[str]] = {sid: Counter() for _, sid, before in taken if not before}
    for new in new_lines:
        counts = per_statement[new.statement_id]
        decision = decisions.get(new.id)
        if decision is None:
            counts["debit_count"] += 1
            continue
        applied = decision.applied
        status = LineStatus.MATCHED if applied == new.line.amount else LineStatus.UNMATCHED
        counts["matched_count" if status == LineStatus.MATCHED else "unmatched_count"] += 1
        counts["overpaid_count"] += int(status == LineStatus.UNMATCHED and applied > ZERO)
        outcomes.append(LineOutcome(new.id, status, applied, decision.method, decision.note))
    await repo.write_outcomes(outcomes)
    total: Counter[str] = Counter()
    for statement, statement_id, before in taken:
        total["lines"] += len(statement.lines)
        if before:
            total["duplicate_count"] += len(statement.lines)
            continue
        counts = per_statement[statement_id]
        counts["duplicate_count"] = len(statement.lines) - sum(
            counts[k] for k in ("matched_count", "unmatched_count", "debit_count"))
        await repo.set_counts(statement_id, {k: counts[k] for k in (
            "matched_count", "unmatched_count", "debit_count", "duplicate_count", "overpaid_count")})
        total.update(counts)
    return total


async def _result(repo: BankingRepository, fmt: StatementFormat, taken: list[tuple[ParsedStatement, uuid.UUID, bool]],
                  counts: Counter[str], decisions: dict[uuid.UUID, Decision]) -> ImportResult:
    statements = []
    waiting = await repo.waiting_by_statement([sid for _, sid, _ in taken])
    ledger_accounts = await repo.ledger_accounts_of([statement.account for statement, _, _ in taken])
    for _, statement_id, before in taken:
        row = await repo.statement(statement_id)
        assert row is not None
        statements.append(ImportedStatement(statement=statement_out(row, waiting.get(row.id, 0), ledger_accounts),
                                            already_imported=before))
    return ImportResult(
        format=fmt, lines=counts["lines"], matched=counts["matched_count"], unmatched=counts["unmatched_count"],
        debits=counts["debit_count"], duplicates=counts["duplicate_count"], overpaid=counts["overpaid_count"],
        payments=sum(len(d.allocations) for d in decisions.values()), statements=statements)


def statement_out(row: BankStatement, waiting: int, ledger_accounts: dict[str, uuid.UUID]) -> StatementOut:
    out = StatementOut.model_validate(row)
    out.waiting = waiting
    out.ledger_account_id = ledger_accounts.get(row.account)
    return out


async def preview(uow: UnitOfWork, data: bytes, mapping_id: uuid.UUID | None) -> PreviewOut:
    """What an import of the file would read, and which of its lines are on record already; nothing is written."""
    upload = await read_upload(uow, data, mapping_id)
    repo = BankingRepository(uow.session)
    statements: list[PreviewStatement] = []
    lines: list[PreviewLine] = []
    for statement in upload.statements:
        known = await repo.known_keys(statement.account, [line.transaction_key for line in statement.lines])
        statements.append(PreviewStatement(
            account=statement.account, currency=statement.currency, statement_id=statement.statement_id,
            opening_balance=statement.opening_balance, closing_balance=statement.closing_balance,
            lines=len(statement.lines), credits=sum(x.direction is Direction.CREDIT for x in statement.lines),
            already_imported=sum(x.transaction_key in known for x in statement.lines)))
        lines += [PreviewLine(direction=x.direction, amount=x.amount, currency=x.currency,
                              booking_date=x.booking_date, counterparty_name=x.counterparty_name,
                              counterparty_iban=x.counterparty_iban, remittance=x.remittance,
                              rf_references=list(_references(x)), already_imported=x.transaction_key in known)
                  for x in statement.lines[:50 - len(lines)]]
    return PreviewOut(format=upload.format, statements=statements, lines=lines)


# --- reading lines -----------------------------------------------------------------------------------------


async def lines_out(repo: BankingRepository, lines: list[BankLine]) -> list[LineOut]:
    matches: dict[uuid.UUID, list[MatchOut]] = {line.id: [] for line in lines}
    for match, number in await repo.matches_of([line.id for line in lines]):
        match_out = MatchOut.model_validate(match)
        match_out.invoice_number = number
        matches[match.line_id].append(match_out)
    result = []
    for line in lines:
        line_out = LineOut.model_validate(line)
        line_out.matches = matches[line.id]
        result.append(line_out)
    return result


async def get_line(uow: UnitOfWork, line_id: uuid.UUID) -> LineOut:
    repo = BankingRepository(uow.session)
    line = await repo.line(line_id)
    if line is None:
        raise NotFound(f"Bank line {line_id} does not exist.")
    return (await lines_out(repo, [line]))[0]


async def get_statement(uow: UnitOfWork, statement_id: uuid.UUID) -> StatementOut:
    repo = BankingRepository(uow.session)
    row = await repo.statement(statement_id)
    if row is None:
        raise NotFound(f"Bank statement {statement_id} does not exist.")
    waiting = await repo.waiting_by_statement([row.id])
    out = statement_out(row, waiting.get(row.id, 0), await repo.ledger_accounts_of([row.account]))
    if out.ledger_account_id is not None and row.closing_date is not None:
        # Read alone (a sum over the account's lines): the statements' list leaves it out.
        balance = await account_balance(uow, out.ledger_account_id, row.currency, row.closing_date + timedelta(days=1))
        out.ledger_balance = money.round_money(balance, row.currency)
        if out.closing_balance is not None:
            out.difference = out.closing_balance - out.ledger_balance
    return out


async def candidates(uow: UnitOfWork, line_id: uuid.UUID) -> list[CandidateOut]:
    """Invoices a person may want this line to pay, best first: those its RF references name, those whose
    balance due is its open amount, and the open invoices of the clients its payer may be (by IBAN or name)."""
    repo = BankingRepository(uow.session)
    line = await repo.line(line_id)
    if line is None:
        raise NotFound(f"Bank line {line_id} does not exist.")
    references = list(rf_references([line.structured_reference or "", line.remittance or ""]))
    by_iban: set[uuid.UUID] = set()
    if line.counterparty_iban:
        by_iban = (await repo.known_payers([line.counterparty_iban])).get(line.counterparty_iban, set())
    by_name = {client_id for client_id, name in await repo.client_names()
               if similar_names(line.counterparty_name, name)} if line.counterparty_name else set()
    open_amount = line.open_amount
    rows = await repo.open_invoices_for(currency=line.currency, amount=open_amount if open_amount > 0 else None,
                                        client_ids=sorted(by_iban | by_name), references=references, limit=200)
    found = []
    for row in rows:
        reasons = [reason for reason, holds in (
            ("reference", row.payment_reference in references), ("amount", row.balance_due == open_amount),
            ("iban", row.client_id in by_iban), ("name", row.client_id in by_name)) if holds]
        found.append(CandidateOut(invoice_id=row.id, number=row.number, client_id=row.client_id,
                                  client_name=row.client_name, currency=row.currency,
                                  balance_due=money.round_money(row.balance_due, row.currency),
                                  due_date=row.due_date, status=row.status, reasons=reasons))
    found.sort(key=lambda c: (-len(c.reasons), c.due_date or date.max, c.number))
    return found[:20]


# --- a person reconciling --------------------------------------------------------------------------------


async def _line(repo: BankingRepository, line_id: uuid.UUID) -> BankLine:
    line = await repo.line(line_id, for_update=True)
    if line is None:
        raise NotFound(f"Bank line {line_id} does not exist.")
    return line


async def _waiting_line(repo: BankingRepository, line_id: uuid.UUID) -> BankLine:
    """A credit still waiting for a person (the invoice matching's lines)."""
    line = await _line(repo, line_id)
    if line.direction != Direction.CREDIT:
        raise Conflict("A debit (money out) is not matched to invoices: link it to a bill payment or set it aside "
                       "to an account.", line_status=line.status)
    if line.status != LineStatus.UNMATCHED:
        raise Conflict(f"The bank line is {line.status}: nothing is left to reconcile on it.", line_status=line.status)
    return line


async def _waiting_any(repo: BankingRepository, line_id: uuid.UUID) -> BankLine:
    """A credit or a debit still waiting for a person."""
    line = await _line(repo, line_id)
    if line.status not in (LineStatus.UNMATCHED, LineStatus.DEBIT):
        raise Conflict(f"The bank line is {line.status}: nothing is left to reconcile on it.", line_status=line.status)
    return line


async def _bank(uow: UnitOfWork, repo: BankingRepository, line: BankLine) -> uuid.UUID:
    """The ledger account of the line's bank account (linked now for a statement imported before the books)."""
    bank, _ = await books.bank_ledger_account(uow, repo, line.account, line.currency)
    return bank


def _settled(line: BankLine, principal: Principal, status: LineStatus) -> None:
    line.status = status
    line.reconciled_by, line.reconciled_at = principal.user_id, utcnow()


async def match_line(uow: UnitOfWork, line_id: uuid.UUID, body: MatchIn, principal: Principal) -> LineOut:
    """Pay one or several open invoices from a waiting line, the amounts adding up to what is left of it. Each
    payment follows the invoice rules (an amount above an invoice's balance is refused: 422, nothing recorded)."""
    repo = BankingRepository(uow.session)
    line = await _waiting_line(repo, line_id)
    left = line.amount - line.applied_amount
    allocations = []
    for n, allocation in enumerate(body.allocations):
        try:
            amount = money.check_amount(allocation.amount, line.currency, field=f"allocations[{n}].amount")
        except ValueError as exc:
            raise Unprocessable(f"{exc}.") from None
        allocations.append(Allocation(allocation.invoice_id, amount))
    if len({a.invoice_id for a in allocations}) != len(allocations):
        raise Unprocessable("Name each invoice once.")
    total = sum((a.amount for a in allocations), ZERO)
    if total != left:
        shown = money.round_money(left, line.currency)
        raise Unprocessable(f"The amounts add up to {total} {line.currency}; the line has {shown} {line.currency} to "
                            f"reconcile.", open_amount=str(shown))
    await _pay_by_hand(uow, repo, line, allocations, principal.user_id, await _bank(uow, repo, line))
    line.applied_amount += total
    line.match_method = line.match_method or MatchMethod.MANUAL
    line.note = body.note or line.note
    _settled(line, principal, LineStatus.MATCHED)
    await uow.commit()
    return (await lines_out(repo, [line]))[0]


async def ignore_line(uow: UnitOfWork, line_id: uuid.UUID, body: IgnoreIn, principal: Principal) -> LineOut:
    """Set a waiting line aside: a credit (or what is left of it) that is no invoice payment (a refund, a grant, a
    transfer between own accounts), or a debit that is no bill payment (rent, fees, salaries). It is booked against
    the account chosen (1900 suspense by default) and leaves the queue; `reopen` brings it back and reverses that."""
    repo = BankingRepository(uow.session)
    line = await _waiting_any(repo, line_id)
    bank = await _bank(uow, repo, line)
    other = body.account_id or account_id(AccountRole.SUSPENSE)
    await usable_account(uow, other, line.currency, "account_id")
    if other == bank:
        raise Unprocessable("account_id: that is the line's own bank account; book it against another account.",
                            type_slug="bank-account", field="account_id")
    line.note = body.note
    line.ledger_account_id = other
    await books.book_line(uow, line, bank, other, line.amount - line.applied_amount)
    _settled(line, principal, LineStatus.IGNORED)
    await uow.commit()
    return (await lines_out(repo, [line]))[0]


async def reopen_line(uow: UnitOfWork, line_id: uuid.UUID, principal: Principal) -> LineOut:
    """Undo a set-aside: its booking is reversed and the line waits again. A match is not undone: its payments are
    recorded and announced, and the invoice rules have no way to take a payment back (docs/erp-invoicing-out.md)."""
    repo = BankingRepository(uow.session)
    line = await _line(repo, line_id)
    if line.status != LineStatus.IGNORED:
        raise Conflict(f"Only a line set aside can be reopened; this one is {line.status}.", line_status=line.status)
    await books.unbook_line(uow, line)
    line.ledger_account_id = None
    _settled(line, principal, LineStatus.UNMATCHED if line.direction == Direction.CREDIT else LineStatus.DEBIT)
    await uow.commit()
    return (await lines_out(repo, [line]))[0]


async def link_line(uow: UnitOfWork, line_id: uuid.UUID, body: LinkIn, principal: Principal) -> LineOut:
    """The line is a payment already recorded by hand: a credit an invoice payment (`payment_id`), a debit a vendor
    bill's payment (`bill_payment_id`). The payment's own entry is the line's booking: nothing is posted twice (only
    moved to the line's bank account when that is not 1000 Bank)."""
    repo = BankingRepository(uow.session)
    line = await _waiting_any(repo, line_id)
    if line.direction == Direction.CREDIT:
        if body.payment_id is None:
            raise Unprocessable("payment_id: a credit (money in) is linked to an invoice payment.",
                                field="payment_id")
        await _link_payment(uow, repo, line, body.payment_id, principal)
    else:
        if body.bill_payment_id is None:
            raise Unprocessable("bill_payment_id: a debit (money out) is linked to a vendor bill's payment.",
                                field="bill_payment_id")
        await _link_bill_payment(uow, repo, line, body.bill_payment_id, principal)
    line.note = body.note or line.note
    await uow.commit()
    return (await lines_out(repo, [line]))[0]


async def payment_candidates(uow: UnitOfWork, line_id: uuid.UUID) -> list[PaymentCandidateOut]:
    """The invoice payments typed in by hand that a waiting credit may be: no line's yet, of at most what is left
    of it, those of exactly that amount first."""
    repo = BankingRepository(uow.session)
    line = await repo.line(line_id)
    if line is None:
        raise NotFound(f"Bank line {line_id} does not exist.")
    if line.direction != Direction.CREDIT or line.open_amount <= ZERO:
        return []
    return [PaymentCandidateOut(payment_id=payment.id, invoice_id=payment.invoice_id, invoice_number=number,
                                client_name=client, currency=payment.currency, paid_on=payment.paid_on,
                                amount=money.round_money(payment.amount, payment.currency))
            for payment, number, client in await repo.unlinked_payments(line.currency, line.open_amount,
                                                                        line.booking_date)]


async def bill_payment_candidates(uow: UnitOfWork, line_id: uuid.UUID) -> list[BillPaymentCandidateOut]:
    """The bill payments a debit may be: of its amount and currency, no line's yet, paid nearest its day first."""
    repo = BankingRepository(uow.session)
    line = await repo.line(line_id)
    if line is None:
        raise NotFound(f"Bank line {line_id} does not exist.")
    if line.direction != Direction.DEBIT:
        return []
    return [BillPaymentCandidateOut(bill_payment_id=payment.id, bill_id=bill.id, vendor_name=vendor,
                                    vendor_reference=bill.vendor_reference, currency=bill.currency,
                                    amount=money.round_money(payment.amount, bill.currency), paid_on=payment.paid_on)
            for payment, bill, vendor in await repo.unlinked_bill_payments(line.currency, line.amount,
                                                                           line.booking_date)]


async def _link_payment(uow: UnitOfWork, repo: BankingRepository, line: BankLine, payment_id: uuid.UUID,
                        principal: Principal) -> None:
    payment = await repo.payment(payment_id)
    if payment is None:
        raise Unprocessable(f"payment_id: payment {payment_id} does not exist.", type_slug="unknown-payment",
                            field="payment_id")
    if await repo.payment_linked(payment_id) is not None:
        raise Conflict("That payment is already a bank line's: a payment is on the statement once.",
                       type_slug="payment-linked")
    if payment.currency != line.currency:
        raise Unprocessable(f"payment_id: the payment is in {payment.currency}, the line in {line.currency}.",
                            field="payment_id")
    left = line.amount - line.applied_amount
    if payment.amount > left:
        shown = money.round_money(left, line.currency)
        raise Unprocessable(f"The payment of {money.round_money(payment.amount, line.currency)} {line.currency} is "
                            f"more than the {shown} {line.currency} left on the line.", open_amount=str(shown))
    now = utcnow()
    await repo.add_matches([{"id": uuid.uuid4(), "line_id": line.id, "invoice_id": payment.invoice_id,
                             "payment_id": payment.id, "amount": payment.amount, "method": MatchMethod.LINKED,
                             "matched_by": principal.user_id, "created_at": now, "updated_at": now}])
    await books.move_to_line_account(uow, source_type=SourceType.PAYMENT, source_id=payment.id, line=line,
                                     bank=await _bank(uow, repo, line), amount=payment.amount, on=line.booking_date)
    line.applied_amount += payment.amount
    line.match_method = line.match_method or MatchMethod.LINKED
    if line.applied_amount == line.amount:
        _settled(line, principal, LineStatus.MATCHED)


async def _link_bill_payment(uow: UnitOfWork, repo: BankingRepository, line: BankLine, payment_id: uuid.UUID,
                             principal: Principal) -> None:
    found = await repo.bill_payment(payment_id)
    if found is None:
        raise Unprocessable(f"bill_payment_id: bill payment {payment_id} does not exist.",
                            type_slug="unknown-bill-payment", field="bill_payment_id")
    payment, bill = found
    if await repo.line_of_bill_payment(payment_id) is not None:
        raise Conflict("That bill payment is already a bank line's: a payment is on the statement once.",
                       type_slug="payment-linked")
    if bill.currency != line.currency or payment.amount != line.amount:
        raise Unprocessable(f"The bill payment is {money.round_money(payment.amount, bill.currency)} {bill.currency}; "
                            f"the line {money.round_money(line.amount, line.currency)} {line.currency}: a debit is "
                            f"linked to a payment of its whole amount.", field="bill_payment_id")
    await books.move_to_line_account(uow, source_type=BILL_PAYMENT, source_id=payment.id, line=line,
                                     bank=await _bank(uow, repo, line), amount=payment.amount, on=line.booking_date)
    line.bill_payment_id = payment.id
    line.applied_amount = line.amount
    line.match_method = MatchMethod.LINKED
    _settled(line, principal, LineStatus.MATCHED)


# --- bank accounts and their ledger accounts ---------------------------------------------------------------


async def relink_bank_account(uow: UnitOfWork, link_id: uuid.UUID, body: BankAccountIn) -> BankLedgerAccount:
    """Book a bank account to another ledger account from now on (what was posted stays where it was posted): an
    active asset account in its currency (or any), that no other bank account books to."""
    repo = BankingRepository(uow.session)
    link = await repo.bank_account(link_id, for_update=True)
    if link is None:
        raise NotFound(f"Bank account {link_id} does not exist.")
    target = await usable_account(uow, body.ledger_account_id, link.currency, "ledger_account_id")
    if target.type != AccountType.ASSET:
        raise Unprocessable(f"ledger_account_id: account {target.code} is {target.type}; a bank account books to an "
                            f"asset account.", type_slug="not-an-asset-account", field="ledger_account_id")
    other = await repo.bank_account_booking_to(target.id)
    if other is not None and other.id != link.id:
        raise Conflict(f"Account {target.code} is bank account {other.account}'s already.",
                       type_slug="bank-account-linked")
    link.ledger_account_id = target.id
    try:
        await uow.commit()
    except IntegrityError:  # another bank account took it meanwhile
        raise Conflict(f"Account {target.code} is another bank account's already.",
                       type_slug="bank-account-linked") from None
    return link


# --- CSV mappings ------------------------------------------------------------------------------------------


async def create_mapping(uow: UnitOfWork, body: CsvMappingIn) -> BankCsvMapping:
    repo = BankingRepository(uow.session)
    if await repo.mapping_named(body.name) is not None:
        raise Conflict(f"A CSV mapping named {body.name!r} exists already.")
    mapping = BankCsvMapping(id=uuid.uuid4())
    _fill(mapping, body)
    repo.add(mapping)
    await _commit_named(uow, body.name)
    return mapping


async def replace_mapping(uow: UnitOfWork, mapping_id: uuid.UUID, body: CsvMappingIn) -> BankCsvMapping:
    repo = BankingRepository(uow.session)
    mapping = await get_mapping(uow, mapping_id)
    other = await repo.mapping_named(body.name)
    if other is not None and other.id != mapping.id:
        raise Conflict(f"A CSV mapping named {body.name!r} exists already.")
    _fill(mapping, body)
    await _commit_named(uow, body.name)
    return mapping


async def _commit_named(uow: UnitOfWork, name: str) -> None:
    """Commit; a mapping of the same name saved meanwhile by someone else is a conflict, as one saved before is."""
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict(f"A CSV mapping named {name!r} exists already.") from None


def _fill(mapping: BankCsvMapping, body: CsvMappingIn) -> None:
    if body.currency and not money.is_currency(body.currency):
        raise Unprocessable(f"{body.currency!r} is not an ISO 4217 currency code.")
    mapping.name, mapping.currency = body.name, body.currency
    mapping.account = "".join(body.account.split()).upper()
    mapping.delimiter, mapping.decimal_separator = body.delimiter, body.decimal_separator
    mapping.date_format, mapping.encoding = body.date_format, body.encoding
    mapping.columns = body.columns.model_dump()


async def get_mapping(uow: UnitOfWork, mapping_id: uuid.UUID) -> BankCsvMapping:
    mapping = await BankingRepository(uow.session).mapping(mapping_id)
    if mapping is None:
        raise NotFound(f"CSV mapping {mapping_id} does not exist.")
    return mapping


async def delete_mapping(uow: UnitOfWork, mapping_id: uuid.UUID) -> None:
    mapping = await get_mapping(uow, mapping_id)
    await BankingRepository(uow.session).delete(mapping)
    await uow.commit()
