"""Bank lines in the books (docs/erp-ledger.md, "Bank lines in the books"): every line of a statement ends up in its
bank account's ledger account, exactly once, so that after reconciliation that account's balance is the
statement's closing balance.

- Each bank account (a statement's account, an IBAN) books to one ledger account: the first one seen to 1000 Bank,
  each other to a new asset account numbered from 1001 (`bank_ledger_account`).
- Its first statement posts the difference between the ledger's balance and the statement's opening balance
  (`bank_statement`, id, `opening`), against 3000 owner's equity.
- A credit that pays invoices is booked by its payments (`payment`, id, `received`: Dr the bank account). A line
  linked to a payment recorded by hand (an invoice payment, a vendor bill payment) posts nothing: the payment's entry
  is its booking; only when that entry booked another bank account than the line's is the amount moved over
  (`payment` / `bill_payment`, id, `bank_account`).
- A line set aside (a credit that is no invoice payment, a debit that is no bill payment) is booked against the
  account the person chose, 1900 suspense by default (`bank_line`, id, `booked.<n>`); reopening it reverses that
  (`unbooked.<n>`), and setting it aside again is booking n + 1.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from erp.banking.models import BankLedgerAccount, BankLine, BankStatement
from erp.banking.repository import BankingRepository
from erp.banking.statement import Direction
from erp.ledger import api as ledger
from throughline_events.money import ZERO, round_money
from throughline_messaging.uow import UnitOfWork

BANK_LINE = "bank_line"
BANK_STATEMENT = "bank_statement"
OPENING = "opening"
MOVED = "bank_account"  # a payment booked on 1000 moved to the bank account of the line it is
DEFAULT_BANK = ledger.account_id(ledger.AccountRole.BANK)


async def bank_ledger_account(uow: UnitOfWork, repo: BankingRepository, account: str,
                              currency: str) -> tuple[uuid.UUID, bool]:
    """The ledger account of this bank account, linked now if it has none yet; and whether it was linked now.
    The first bank account linked takes 1000 Bank; each other gets a new asset account in its currency."""
    found = await repo.ledger_account_of(account)
    if found is not None:
        return found.ledger_account_id, False
    await repo.lock_ledger_accounts()  # two first imports of different accounts must not both take 1000
    found = await repo.ledger_account_of(account)
    if found is not None:
        return found.ledger_account_id, False
    if await repo.any_ledger_account():
        ledger_id = await ledger.create_bank_account(uow, f"Bank {account}", currency)
    else:
        ledger_id = DEFAULT_BANK
    repo.add_ledger_account(BankLedgerAccount(id=uuid.uuid4(), account=account, currency=currency,
                                              ledger_account_id=ledger_id))
    await uow.session.flush()
    return ledger_id, True


def _bank_side(bank: uuid.UUID, other: uuid.UUID, currency: str, amount: Decimal, incoming: bool,
               description: str | None) -> list[ledger.PostingLine]:
    """Money in: Dr bank / Cr other; money out: Dr other / Cr bank (a negative amount is the other way)."""
    if amount < ZERO:
        amount, incoming = -amount, not incoming
    debit, credit = (bank, other) if incoming else (other, bank)
    return [ledger.PostingLine(debit, currency, debit=amount, description=description),
            ledger.PostingLine(credit, currency, credit=amount, description=description)]


async def post_opening(uow: UnitOfWork, statement: BankStatement, bank: uuid.UUID) -> None:
    """The first statement of a bank account: the ledger's balance of its account before the statement's first
    day brought to the statement's opening balance, against owner's equity, dated the day before. Nothing when
    they agree or the statement has no opening balance."""
    start = statement.first_booking_date or statement.opening_date or statement.closing_date
    if statement.opening_balance is None or start is None:
        return
    currency = statement.currency
    opening = round_money(statement.opening_balance, currency)
    difference = opening - await ledger.account_balance(uow, bank, currency, start)
    if difference == ZERO:
        return
    await ledger.post(uow, source_type=BANK_STATEMENT, source_id=statement.id, kind=OPENING,
                      entry_date=start - timedelta(days=1),
                      lines=_bank_side(bank, ledger.account_id(ledger.AccountRole.EQUITY), currency, difference,
                                       True, f"Opening balance of {statement.account}"),
                      memo=f"Opening balance of bank account {statement.account}: {opening} {currency}")


async def move_to_line_account(uow: UnitOfWork, *, source_type: str, source_id: uuid.UUID, line: BankLine,
                               bank: uuid.UUID, amount: Decimal, on: date) -> None:
    """A payment booked on 1000 Bank (typed by hand, or matched by hand through the invoices' own path) that is a
    line of another bank account: moved over to that account, once per payment."""
    if bank == DEFAULT_BANK:
        return
    await ledger.post(uow, source_type=source_type, source_id=source_id, kind=MOVED, entry_date=on,
                      lines=_bank_side(bank, DEFAULT_BANK, line.currency, amount,
                                       line.direction == Direction.CREDIT, f"Bank line of {line.account}"),
                      memo=f"Payment moved to bank account {line.account}")


async def book_line(uow: UnitOfWork, line: BankLine, bank: uuid.UUID, account: uuid.UUID, amount: Decimal) -> None:
    """A line set aside, booked against `account`: its next booking (`booked.<n>`)."""
    line.bookings += 1
    what = line.counterparty_name or line.remittance or line.bank_reference or line.transaction_key
    await ledger.post(uow, source_type=BANK_LINE, source_id=line.id, kind=f"booked.{line.bookings}",
                      entry_date=line.booking_date,
                      lines=_bank_side(bank, account, line.currency, amount, line.direction == Direction.CREDIT,
                                       (what or "")[:200] or None),
                      memo=f"Bank line of {line.account} on {line.booking_date}: {line.note or ''}"[:500])


async def unbook_line(uow: UnitOfWork, line: BankLine) -> None:
    """A set-aside line reopened: its latest booking reversed, dated as the line (so that the statement's days
    never hold a booking and its undoing apart; a closed month moves it to the first open one, as any posting)."""
    if line.bookings:
        await ledger.reverse(uow, source_type=BANK_LINE, source_id=line.id, of_kind=f"booked.{line.bookings}",
                             kind=f"unbooked.{line.bookings}", entry_date=line.booking_date,
                             memo=f"Bank line of {line.account} on {line.booking_date} reopened")
