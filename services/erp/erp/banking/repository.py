import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, cast

from sqlalchemy import DateTime, Numeric, Table, Text, Uuid, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import noload

from erp.banking.models import BankCsvMapping, BankLedgerAccount, BankLine, BankLineMatch, BankStatement, LineStatus
from erp.clients.api import Client
from erp.invoices.api import OPEN_STATUSES, Invoice, InvoiceKind, Payment
from erp.payables.api import Bill, BillPayment, Vendor
from throughline_messaging.bulk import arrays, insert_from_arrays, insert_rows
from throughline_platform.paging import page_with_total

# `id` left to the database (gen_random_uuid()): ten thousand uuid4() calls cost more than the insert.
LINE_COLUMNS = ("statement_id", "account", "transaction_key", "position", "direction", "amount", "currency",
                "booking_date", "value_date", "counterparty_name", "counterparty_iban", "structured_reference",
                "remittance", "bank_reference", "end_to_end_id", "reversal", "status")

LEDGER_ACCOUNTS_LOCK_KEY = 0xBA4C1ED  # "bank ledger": linking a new bank account to its ledger account


@dataclass
class CandidateRow:
    """An invoice that a credit may pay, as the import locks it: what matching compares, and what the payment
    rules read (`erp.invoices.api.PayableInvoice`); its ledger changes as `payments_in_bulk` applies payments."""

    id: uuid.UUID
    number: str
    kind: str
    status: str
    client_id: uuid.UUID
    client_name: str
    company_id: uuid.UUID | None  # the client's CRM company, which the payment events name
    currency: str
    total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    balance_due: Decimal
    due_date: date | None
    paid_at: datetime | None
    payment_reference: str | None
    project_id: uuid.UUID | None
    deal_id: uuid.UUID | None


@dataclass(frozen=True)
class LineOutcome:
    """What matching made of a new line: written to it in one statement."""

    id: uuid.UUID
    status: str
    applied_amount: Decimal
    match_method: str | None
    note: str | None


class BankingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- statements and their lines ----------------------------------------------------------------

    async def claim_statement(self, row: dict[str, Any]) -> bool:
        """Insert the statement unless one with its fingerprint exists: False when it does (imported before, or
        by a concurrent import, which this one waits for to commit or roll back)."""
        inserted = await self.session.execute(
            insert(BankStatement).values(**row).on_conflict_do_nothing(index_elements=["fingerprint"])
            .returning(BankStatement.id))
        return inserted.first() is not None

    async def statement_by_fingerprint(self, fingerprint: str) -> BankStatement | None:
        query = select(BankStatement).where(BankStatement.fingerprint == fingerprint)
        return (await self.session.execute(query)).scalars().first()

    async def statement(self, statement_id: uuid.UUID) -> BankStatement | None:
        return await self.session.get(BankStatement, statement_id)

    async def insert_new_lines(self, rows: list[dict[str, Any]]) -> dict[str, uuid.UUID]:
        """Insert the lines whose transaction is not on record yet (all of one account); the id of each inserted,
        by transaction key. The rows go in transaction-key order, so two imports of overlapping statements wait
        on each other's keys in the same order instead of deadlocking."""
        if not rows:
            return {}
        ordered = sorted(rows, key=lambda r: (r["account"], r["transaction_key"]))
        inserted = await self.session.execute(_insert_new_lines(), arrays(ordered, LINE_COLUMNS))
        return {key: line_id for line_id, key in inserted.all()}

    async def write_outcomes(self, outcomes: Sequence[LineOutcome]) -> None:
        if not outcomes:
            return
        await self.session.execute(_write_outcomes(), {
            "ids": [o.id for o in outcomes], "statuses": [o.status for o in outcomes],
            "applied": [o.applied_amount for o in outcomes], "methods": [o.match_method for o in outcomes],
            "notes": [o.note for o in outcomes]})

    async def set_counts(self, statement_id: uuid.UUID, counts: dict[str, int]) -> None:
        await self.session.execute(update(BankStatement).where(BankStatement.id == statement_id).values(**counts))

    async def known_keys(self, account: str, keys: list[str]) -> set[str]:
        rows = await self.session.execute(
            select(BankLine.transaction_key).where(BankLine.account == account,
                                                   BankLine.transaction_key == any_(_array("keys", Text()))),
            {"keys": keys})
        return set(rows.scalars())

    async def search_statements(self, account: str | None, limit: int, offset: int
                                ) -> tuple[list[BankStatement], int]:
        query = select(BankStatement)
        if account:
            query = query.where(BankStatement.account == account)
        return await page_with_total(self.session, query, BankStatement.created_at.desc(), BankStatement.id,
                                     limit=limit, offset=offset)

    async def waiting_by_statement(self, statement_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not statement_ids:
            return {}
        rows = await self.session.execute(
            select(BankLine.statement_id, func.count())
            .where(BankLine.statement_id == any_(_array("ids", Uuid())), BankLine.status == LineStatus.UNMATCHED)
            .group_by(BankLine.statement_id), {"ids": statement_ids})
        return {statement_id: count for statement_id, count in rows.all()}

    async def search_lines(self, *, status: str | None, statement_id: uuid.UUID | None, direction: str | None,
                           q: str | None, limit: int, offset: int) -> tuple[list[BankLine], int]:
        query = select(BankLine)
        if status:
            query = query.where(BankLine.status == status)
        if statement_id:
            query = query.where(BankLine.statement_id == statement_id)
        if direction:
            query = query.where(BankLine.direction == direction)
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(BankLine.counterparty_name.ilike(pattern) | BankLine.remittance.ilike(pattern))
        return await page_with_total(self.session, query, BankLine.booking_date, BankLine.statement_id,
                                     BankLine.position, BankLine.id, limit=limit, offset=offset)

    async def line(self, line_id: uuid.UUID, *, for_update: bool = False) -> BankLine | None:
        query = select(BankLine).where(BankLine.id == line_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalars().first()

    async def matches_of(self, line_ids: list[uuid.UUID]) -> list[tuple[BankLineMatch, str | None]]:
        """Each line's matches with the number of the invoice paid, oldest first."""
        if not line_ids:
            return []
        rows = await self.session.execute(
            select(BankLineMatch, Invoice.number).join(Invoice, Invoice.id == BankLineMatch.invoice_id)
            .where(BankLineMatch.line_id == any_(_array("ids", Uuid())))
            .order_by(BankLineMatch.created_at, BankLineMatch.id), {"ids": line_ids})
        return [(match, number) for match, number in rows.all()]

    async def add_matches(self, rows: list[dict[str, Any]]) -> None:
        await insert_rows(self.session, cast(Table, BankLineMatch.__table__), rows)

    # --- the bank accounts' ledger accounts and what a line is linked to (`books`) ---

    async def ledger_account_of(self, account: str) -> BankLedgerAccount | None:
        query = select(BankLedgerAccount).where(BankLedgerAccount.account == account)
        return (await self.session.execute(query)).scalars().first()

    async def ledger_accounts_of(self, accounts: Sequence[str]) -> dict[str, uuid.UUID]:
        query = select(BankLedgerAccount.account, BankLedgerAccount.ledger_account_id).where(
            BankLedgerAccount.account.in_(set(accounts)))
        return {account: ledger_id for account, ledger_id in (await self.session.execute(query)).all()}

    async def bank_accounts(self) -> list[BankLedgerAccount]:
        return list((await self.session.execute(select(BankLedgerAccount).order_by(BankLedgerAccount.account)))
                    .scalars())

    async def bank_account(self, link_id: uuid.UUID, *, for_update: bool = False) -> BankLedgerAccount | None:
        query = select(BankLedgerAccount).where(BankLedgerAccount.id == link_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalars().first()

    async def bank_account_booking_to(self, ledger_account_id: uuid.UUID) -> BankLedgerAccount | None:
        query = select(BankLedgerAccount).where(BankLedgerAccount.ledger_account_id == ledger_account_id)
        return (await self.session.execute(query)).scalars().first()

    async def any_ledger_account(self) -> bool:
        return (await self.session.execute(select(BankLedgerAccount.id).limit(1))).first() is not None

    async def lock_ledger_accounts(self) -> None:
        """Serialise the linking of new bank accounts (the first one takes 1000 Bank): held to the commit."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_ACCOUNTS_LOCK_KEY})

    def add_ledger_account(self, row: BankLedgerAccount) -> None:
        self.session.add(row)

    async def payment(self, payment_id: uuid.UUID) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def payment_linked(self, payment_id: uuid.UUID) -> uuid.UUID | None:
        """The bank line the invoice payment is matched or linked to, if any."""
        query = select(BankLineMatch.line_id).where(BankLineMatch.payment_id == payment_id)
        return (await self.session.execute(query)).scalars().first()

    async def bill_payment(self, payment_id: uuid.UUID) -> tuple[BillPayment, Bill] | None:
        query = (select(BillPayment, Bill).join(Bill, Bill.id == BillPayment.bill_id)
                 .where(BillPayment.id == payment_id).with_for_update(of=BillPayment))
        row = (await self.session.execute(query)).first()
        return (row[0], row[1]) if row else None

    async def unlinked_bill_payments(self, currency: str, amount: Decimal, near: date
                                     ) -> list[tuple[BillPayment, Bill, str]]:
        """Bill payments of this amount and currency no bank line is yet, those paid nearest `near` first."""
        linked = select(BankLine.id).where(BankLine.bill_payment_id == BillPayment.id).exists()
        query = (select(BillPayment, Bill, Vendor.name).join(Bill, Bill.id == BillPayment.bill_id)
                 .join(Vendor, Vendor.id == Bill.vendor_id)
                 .where(Bill.currency == currency, BillPayment.amount == amount, ~linked)
                 .order_by(func.abs(BillPayment.paid_on - near), BillPayment.id).limit(20))
        return [(payment, bill, name) for payment, bill, name in (await self.session.execute(query)).all()]

    async def unlinked_payments(self, currency: str, at_most: Decimal, near: date
                                ) -> list[tuple[Payment, str | None, str]]:
        """Invoice payments of at most `at_most` in this currency that no bank line is (typed in by hand), with
        their invoice's number and client; those of exactly that amount, then those paid nearest `near`, first."""
        linked = select(BankLineMatch.id).where(BankLineMatch.payment_id == Payment.id).exists()
        query = (select(Payment, Invoice.number, Client.name).join(Invoice, Invoice.id == Payment.invoice_id)
                 .join(Client, Client.id == Invoice.client_id)
                 .where(Payment.currency == currency, Payment.amount <= at_most, ~linked)
                 .order_by((Payment.amount != at_most), func.abs(Payment.paid_on - near), Payment.id).limit(20))
        return [(payment, number, name) for payment, number, name in (await self.session.execute(query)).all()]

    async def line_of_bill_payment(self, payment_id: uuid.UUID) -> uuid.UUID | None:
        query = select(BankLine.id).where(BankLine.bill_payment_id == payment_id)
        return (await self.session.execute(query)).scalars().first()

    # --- the import's payments (`payments_in_bulk`): rows of the invoices package's tables, written set-based ---

    async def insert_payments(self, rows: list[dict[str, Any]]) -> None:
        await insert_rows(self.session, cast(Table, Payment.__table__), rows)

    async def update_paid_invoices(self, invoices: list[CandidateRow], now: datetime) -> None:
        """Each invoice's new ledger, status and paid_at, in one statement."""
        if not invoices:
            return
        await self.session.execute(_update_paid_invoices(), {
            "ids": [i.id for i in invoices], "paid": [i.amount_paid for i in invoices],
            "balances": [i.balance_due for i in invoices], "statuses": [i.status for i in invoices],
            "paid_ats": [i.paid_at for i in invoices], "now": now})

    # --- the invoices a credit may pay ------------------------------------------------------------

    async def lock_candidates(self, references: list[str], amounts: list[Decimal]) -> list[CandidateRow]:
        """Invoices named by one of the references (whatever their status: a paid one explains a second
        payment), and open invoices whose balance due is one of the amounts, locked in id order until the
        import commits: the balances matching decides on are the ones its payments then change, and concurrent
        imports or payments queue in one order."""
        if not references and not amounts:
            return []
        rows = await self.session.execute(_lock_candidates(), {"references": references, "amounts": amounts})
        return [CandidateRow(*row) for row in rows.all()]

    async def invoices(self, invoice_ids: list[uuid.UUID], *, lock: bool) -> dict[uuid.UUID, Invoice]:
        """The invoices as the invoices package records payments on them (without their lines, which a payment
        does not touch), locked in id order unless the caller holds them already."""
        if not invoice_ids:
            return {}
        query = (select(Invoice).where(Invoice.id == any_(_array("ids", Uuid()))).order_by(Invoice.id)
                 .options(noload(Invoice.lines)).execution_options(populate_existing=True))
        if lock:
            query = query.with_for_update()
        rows = await self.session.execute(query, {"ids": sorted(invoice_ids)})
        return {invoice.id: invoice for invoice in rows.scalars()}

    async def known_payers(self, ibans: list[str]) -> dict[str, set[uuid.UUID]]:
        """Payer IBAN -> the clients whose invoices that account paid before (through a matched bank line)."""
        if not ibans:
            return {}
        rows = await self.session.execute(
            select(BankLine.counterparty_iban, Invoice.client_id).distinct()
            .join(BankLineMatch, BankLineMatch.line_id == BankLine.id)
            .join(Invoice, Invoice.id == BankLineMatch.invoice_id)
            .where(BankLine.counterparty_iban == any_(_array("ibans", Text()))), {"ibans": ibans})
        found: dict[str, set[uuid.UUID]] = {}
        for iban, client_id in rows.all():
            if iban is not None:
                found.setdefault(iban, set()).add(client_id)
        return found

    async def open_invoices_for(self, *, currency: str, amount: Decimal | None, client_ids: list[uuid.UUID],
                                references: list[str], limit: int) -> list[CandidateRow]:
        """Suggestions for a line waiting for a person: invoices named by its references, open invoices of its
        amount, and open invoices of the clients it may be from."""
        open_invoice = (Invoice.kind == InvoiceKind.INVOICE) & Invoice.status.in_(OPEN_STATUSES) \
            & (Invoice.currency == currency)
        wanted = Invoice.payment_reference == any_(_array("references", Text()))
        if amount is not None:
            wanted = wanted | (open_invoice & (Invoice.balance_due == amount))
        wanted = wanted | (open_invoice & (Invoice.client_id == any_(_array("clients", Uuid()))))
        rows = await self.session.execute(
            _candidate_columns().where(wanted).order_by(Invoice.due_date, Invoice.number).limit(limit),
            {"references": references, "clients": client_ids})
        return [CandidateRow(*row) for row in rows.all()]

    async def client_names(self) -> list[tuple[uuid.UUID, str]]:
        rows = await self.session.execute(select(Client.id, Client.name).where(Client.crm_deleted.is_(False)))
        return [(client_id, name) for client_id, name in rows.all()]

    # --- CSV mappings -----------------------------------------------------------------------------

    def add(self, obj: BankCsvMapping) -> None:
        self.session.add(obj)

    async def mapping(self, mapping_id: uuid.UUID) -> BankCsvMapping | None:
        return await self.session.get(BankCsvMapping, mapping_id)

    async def mapping_named(self, name: str) -> BankCsvMapping | None:
        query = select(BankCsvMapping).where(BankCsvMapping.name == name)
        return (await self.session.execute(query)).scalars().first()

    async def mappings(self) -> list[BankCsvMapping]:
        return list((await self.session.execute(select(BankCsvMapping).order_by(BankCsvMapping.name))).scalars())

    async def delete(self, obj: BankCsvMapping) -> None:
        await self.session.delete(obj)


def _array(name: str, item: Any) -> Any:
    return bindparam(name, type_=ARRAY(item))


@cache
def _insert_new_lines() -> Any:
    """Built once (as the other bulk statements are): INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING
    RETURNING id."""
    statement = insert_from_arrays(cast(Table, BankLine.__table__), LINE_COLUMNS)
    return (statement.on_conflict_do_nothing(constraint="uq_bank_lines_transaction")
            .returning(BankLine.id, BankLine.transaction_key))


@cache
def _update_paid_invoices() -> Any:
    return text("""
        UPDATE invoices
        SET amount_paid = paid.amount_paid, balance_due = paid.balance_due, status = paid.status,
            paid_at = paid.paid_at, updated_at = :now
        FROM unnest(:ids, :paid, :balances, :statuses, :paid_ats)
             AS paid(id, amount_paid, balance_due, status, paid_at)
        WHERE invoices.id = paid.id""").bindparams(
        bindparam("ids", type_=ARRAY(Uuid())), bindparam("paid", type_=ARRAY(Numeric())),
        bindparam("balances", type_=ARRAY(Numeric())), bindparam("statuses", type_=ARRAY(Text())),
        bindparam("paid_ats", type_=ARRAY(DateTime(timezone=True))), bindparam("now", type_=DateTime(timezone=True)))


@cache
def _write_outcomes() -> Any:
    return text("""
        UPDATE bank_lines AS line
        SET status = outcome.status, applied_amount = outcome.applied, match_method = outcome.method,
            note = outcome.note, updated_at = now()
        FROM unnest(:ids, :statuses, :applied, :methods, :notes) AS outcome(id, status, applied, method, note)
        WHERE line.id = outcome.id""").bindparams(
        bindparam("ids", type_=ARRAY(Uuid())), bindparam("statuses", type_=ARRAY(Text())),
        bindparam("applied", type_=ARRAY(Numeric())), bindparam("methods", type_=ARRAY(Text())),
        bindparam("notes", type_=ARRAY(Text())))


def _candidate_columns() -> Any:
    """The columns of `CandidateRow`, in its order."""
    return (select(Invoice.id, Invoice.number, Invoice.kind, Invoice.status, Invoice.client_id, Client.name,
                   Client.crm_company_id, Invoice.currency, Invoice.total, Invoice.amount_paid,
                   Invoice.amount_credited, Invoice.balance_due, Invoice.due_date, Invoice.paid_at,
                   Invoice.payment_reference, Invoice.project_id, Invoice.deal_id)
            .join(Client, Client.id == Invoice.client_id)
            .where(Invoice.kind == InvoiceKind.INVOICE, Invoice.number.is_not(None)))


def _unnested(name: str, item: Any) -> Any:
    """`(SELECT unnest(:name))`: a set the planner joins by hash or by index. `column = ANY(:array)` would compare
    each row with every element, seconds for 50,000 invoices and 10,000 amounts."""
    return select(func.unnest(_array(name, item)).column_valued("value")).scalar_subquery()


@cache
def _lock_candidates() -> Any:
    named = select(Invoice.id).where(Invoice.payment_reference.in_(_unnested("references", Text())))
    of_amount = select(Invoice.id).where(Invoice.status.in_(OPEN_STATUSES),
                                         Invoice.balance_due.in_(_unnested("amounts", Numeric())))
    wanted = named.union_all(of_amount).scalar_subquery()
    return _candidate_columns().where(Invoice.id.in_(wanted)).order_by(Invoice.id).with_for_update(of=Invoice)
