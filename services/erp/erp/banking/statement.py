"""The one shape every statement parser returns (CAMT.053, MT940, CSV), and what they share: the refusal of a
malformed file, naming where it went wrong, and the identity of a transaction.

Pure: no database, no HTTP. A file holds one or more statements (a CAMT.053 document may report several accounts
or days, an MT940 file several messages); each statement holds its lines, credits and debits alike, in file order.
"""

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from throughline_events import money

# What a bank statement upload may weigh: a day of 10,000 credits in CAMT.053 is about 10 MB.
MAX_STATEMENT_BYTES = 32 * 1024 * 1024


class StatementFormat(StrEnum):
    CAMT053 = "camt053"
    MT940 = "mt940"
    CSV = "csv"


class Direction(StrEnum):
    CREDIT = "credit"  # money in: a client paying, matched to invoices
    DEBIT = "debit"  # money out: kept for the ledger, never matched here


class StatementError(ValueError):
    """A file that is not a statement we read, or a malformed one. `where` names the line ("line 7") or the
    element ("Stmt[1]/Ntry[3]/Amt") so that a person can find it; the import answers 422 and imports nothing."""

    def __init__(self, where: str | None, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


@dataclass(slots=True)
class StatementLine:
    """One booked entry on the account. `amount` is positive; `direction` says which way the money went. Not
    frozen: `with_transaction_keys` gives each its key where it is (a statement has ten thousand of them)."""

    direction: Direction
    amount: Decimal
    currency: str
    booking_date: date
    value_date: date | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    # Structured creditor references (CAMT Strd/CdtrRefInf/Ref), then the free text (Ustrd, :86:, a CSV column).
    structured_references: tuple[str, ...] = ()
    remittance: str = ""
    # The bank's own reference of the entry (CAMT AcctSvcrRef, MT940 "//" reference, a CSV id column), and the
    # payer's end-to-end id: shown to people, and the bank's reference is the transaction's identity.
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    reversal: bool = False  # a returned payment (CAMT RvslInd, MT940 RC/RD)
    transaction_key: str = ""  # set by `with_transaction_keys`


@dataclass(frozen=True)
class ParsedStatement:
    format: StatementFormat
    account: str  # an IBAN (compact, upper case) when the bank gives one, else its account identification
    currency: str
    statement_id: str | None = None
    opening_balance: Decimal | None = None  # signed: negative when the account was overdrawn
    opening_date: date | None = None
    closing_balance: Decimal | None = None
    closing_date: date | None = None
    lines: tuple[StatementLine, ...] = field(default_factory=tuple)

    @property
    def fingerprint(self) -> str:
        """The statement's identity, whatever file wrapped it: the account, the bank's statement id, the
        balances and every line's identity. The same statement imported again (re-downloaded, with another
        message header) has the same fingerprint; a statement with one line more does not."""
        content = [self.format, self.account, self.currency, self.statement_id,
                   _text(self.opening_balance), _text(self.opening_date), _text(self.closing_balance),
                   _text(self.closing_date), [line.transaction_key for line in self.lines]]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def with_transaction_keys(statement: ParsedStatement) -> ParsedStatement:
    """Every line's identity, the same every time the same statement is read (docs/erp-invoicing-out.md):

    - the bank's own reference of the entry with its booking date, direction and amount, when the bank gives one
      (`ref:`): banks make it unique per account; the date and amount guard against a bank that reuses one;
    - else a hash of what the line says (`hash:`): dates, direction, amount, currency, counterparty, references
      and text.

    Two lines of a statement that say exactly the same (two identical transfers on one day) are told apart by
    their order, `#2`, `#3`: a second identical transfer is a second payment, and importing the statement again
    gives the same keys, so still no payment is recorded twice."""
    seen: Counter[str] = Counter()
    for line in statement.lines:
        base = _base_key(line)
        seen[base] += 1
        line.transaction_key = base if seen[base] == 1 else f"{base}#{seen[base]}"
    return statement


def _base_key(line: StatementLine) -> str:
    sign = "C" if line.direction is Direction.CREDIT else "D"
    amount = f"{sign}{line.amount}{line.currency}"
    if line.bank_reference:
        return f"ref:{line.bank_reference[:80]}:{line.booking_date.isoformat()}:{amount}"
    content = json.dumps([line.booking_date.isoformat(), _text(line.value_date), amount, line.counterparty_name,
                          line.counterparty_iban, list(line.structured_references), line.remittance,
                          line.end_to_end_id, line.reversal])
    return "hash:" + hashlib.sha256(content.encode()).hexdigest()[:48]


# References banks and payers write when they have none: not an identity.
NO_REFERENCE = frozenset({"", "NONREF", "NOTPROVIDED", "NOT PROVIDED", "NONE"})


def reference_or_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return None if value.upper() in NO_REFERENCE else value


def account_identity(value: str) -> str:
    """An IBAN compact and upper case (`DE89 3704 ...` -> `DE8937040044...`); any other account identification
    (a bank code and number, as old MT940 files give) stripped of blanks."""
    return iban_or_none(value) or "".join(value.split())


_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


@lru_cache(maxsize=8192)
def iban_or_none(value: str | None) -> str | None:
    """The IBAN compact and upper case, or None when it is not an IBAN (a payer's account is only used to
    recognise the payer, so an unreadable one is dropped rather than refused). The ISO 13616 check (MOD 97-10,
    what stdnum's `iban.is_valid` checks before its country tables, at a tenth of its cost: a statement has
    thousands); payers repeat, hence the cache."""
    if not value:
        return None
    compact = "".join(value.split()).upper()
    if not _IBAN_SHAPE.fullmatch(compact):
        return None
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return compact if int(digits) % 97 == 1 else None


def checked_currency(code: str, where: str) -> str:
    code = code.strip().upper()
    if not money.is_currency(code):
        raise StatementError(where, f"{code!r} is not an ISO 4217 currency code")
    return code


def checked_amount(amount: Decimal, currency: str, where: str) -> Decimal:
    """An amount of zero or more, no finer than the currency's minor unit (a statement has no fractions of a
    cent). The parsers leave entries of zero out: they move no money (a bank's notice of a waived fee)."""
    try:
        return money.check_amount(amount, currency)
    except ValueError as exc:
        raise StatementError(where, str(exc)) from None


def clean_text(value: str | None, limit: int = 1000) -> str:
    """Free text as people read it: runs of blanks and line breaks made one space, cut at `limit`."""
    return " ".join((value or "").split())[:limit]
