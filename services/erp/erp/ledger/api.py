"""What the packages where business facts happen use of the ledger: post the fact's entry in the caller's
transaction, exactly once.

- `post(uow, source_type=..., source_id=..., kind=..., entry_date=..., lines=[PostingLine(...)], memo=...)`: any
  balanced entry keyed by (source_type, source_id, kind); a replay posts nothing. Lines name the default chart's
  accounts by `AccountRole` (bank, accounts payable, VAT input, ...), or an account by id. Each line is converted
  into the base currency at the fact day's rate, or at `PostingLine(rate=...)` when the caller knows better (a
  bill's stored rate); the entry's difference in base goes to 4900/6950 (docs/erp-books.md, currencies).
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
from erp.ledger.service.accounts import expense_account
from erp.ledger.service.journal import Posted, Posting, PostingLine, post_all
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
    "account_id",
    "credit_note_issued",
    "expense_account",
    "expense_approved",
    "expense_reimbursed",
    "invoice_issued",
    "invoice_voided",
    "late_fee_added",
    "payments_received",
    "post",
]
