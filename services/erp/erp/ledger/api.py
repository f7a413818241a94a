"""What the packages where business facts happen use of the ledger: post the fact's entry in the caller's
transaction, exactly once.

- `post(uow, source_type=..., source_id=..., kind=..., entry_date=..., lines=[PostingLine(...)], memo=...)`: any
  balanced entry keyed by (source_type, source_id, kind); a replay posts nothing. Lines name the default chart's
  accounts by `AccountRole` (bank, accounts payable, VAT input, ...), or an account by id. Each line is converted
  into the base currency at the fact day's rate, or at `PostingLine(rate=...)` when the caller knows better (a
  bill's stored rate); the entry's difference in base goes to 4900/6950 (docs/erp-ledger.md, currencies).
- The bank accounts' ledger accounts (`create_bank_account`, `usable_account`, `account_balance`), and `reverse`
  (a posted entry's reversal, keyed like any posting).
- The ready-made postings of invoicing, payments (one or thousands at once), credit notes, voids, late fees and
  expenses (`erp.ledger.service.posting`, plain data in).

The ledger sits below those packages (company, taxes -> ledger -> clients -> ... -> invoices, banking, expenses)
and imports none of them.
"""

import uuid
from collections.abc import Sequence
from datetime import date

from erp.ledger.chart import AccountRole, AccountType, account_id
from erp.ledger.models import EntryKind, SourceType
from erp.ledger.service.accounts import account_balance, create_bank_account, expense_account, usable_account
from erp.ledger.service.journal import Posted, Posting, PostingLine, post_all, post_reversal
from erp.ledger.service.posting import (
    ExpenseFact,
    InvoiceFact,
    PaymentFact,
    credit_note_issued,
    expense_approved,
    expense_reimbursed,
    invoice_issued,
    invoice_voided,
    late_fee_added,
    payments_received,
)
from throughline_messaging.uow import UnitOfWork


async def post(uow: UnitOfWork, *, source_type: str, source_id: uuid.UUID, kind: str, entry_date: date,
               lines: Sequence[PostingLine], memo: str | None = None, client_id: uuid.UUID | None = None,
               project_id: uuid.UUID | None = None, cost_center_id: uuid.UUID | None = None) -> Posted | None:
    """Post the entry of a business fact in the caller's transaction (the caller commits): balanced per currency
    or a 422; dated `entry_date`, or the first day of the first open month after it when its month is closed.
    None when this (source_type, source_id, kind) was posted before."""
    posted = await post_all(uow, [Posting(source_type, source_id, kind, entry_date, lines, memo=memo,
                                          client_id=client_id, project_id=project_id,
                                          cost_center_id=cost_center_id)])
    return posted[0] if posted else None


async def reverse(uow: UnitOfWork, *, source_type: str, source_id: uuid.UUID, of_kind: str, kind: str,
                  entry_date: date, memo: str | None = None) -> Posted | None:
    """Post the reversal of the entry (source_type, source_id, of_kind) as (source_type, source_id, kind): None when
    there is no such entry or the reversal was posted before."""
    return await post_reversal(uow, source_type=source_type, source_id=source_id, of_kind=of_kind, kind=kind,
                               fact_date=entry_date, memo=memo)


__all__ = [
    "AccountRole",
    "AccountType",
    "EntryKind",
    "ExpenseFact",
    "InvoiceFact",
    "PaymentFact",
    "Posted",
    "PostingLine",
    "SourceType",
    "account_balance",
    "account_id",
    "create_bank_account",
    "credit_note_issued",
    "expense_account",
    "expense_approved",
    "expense_reimbursed",
    "invoice_issued",
    "invoice_voided",
    "late_fee_added",
    "payments_received",
    "post",
    "reverse",
    "usable_account",
]
