"""The ledger's queries. Posting writes entries and their lines in ONE statement whatever their number
(`insert_entries`), so that booking a fact costs its business change one round trip more, and a bank import's
thousands of payments one statement too."""

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from erp.ledger.models import PERIODS_LOCK_KEY, Account, JournalEntry, JournalLine, Period, PeriodLog, PeriodStatus
from throughline_platform.paging import page_with_total

_INSERT_ENTRIES = text("""
WITH entry AS (
    INSERT INTO journal_entries (id, entry_date, fact_date, source_type, source_id, kind, memo, reverses_id,
                                 created_by, created_at, updated_at)
    SELECT e.id, e.entry_date, e.fact_date, e.source_type, e.source_id, e.kind, e.memo, e.reverses_id,
           e.created_by, now(), now()
    FROM unnest(CAST(:e_id AS uuid[]), CAST(:e_entry_date AS date[]), CAST(:e_fact_date AS date[]),
                CAST(:e_source_type AS text[]), CAST(:e_source_id AS uuid[]), CAST(:e_kind AS text[]),
                CAST(:e_memo AS text[]), CAST(:e_reverses_id AS uuid[]), CAST(:e_created_by AS text[]))
         AS e(id, entry_date, fact_date, source_type, source_id, kind, memo, reverses_id, created_by)
    ON CONFLICT (source_type, source_id, kind) WHERE source_id IS NOT NULL DO NOTHING
    RETURNING id, number, entry_date  -- the date the trigger gave it (a closed month's fact moves on)
), line AS (
    INSERT INTO journal_lines (entry_id, position, account_id, entry_date, currency, debit, credit,
                               debit_base, credit_base, description, tax_rate, tax_category, client_id,
                               project_id, cost_center_id)
    SELECT l.entry_id, l.position, l.account_id, entry.entry_date, l.currency, l.debit, l.credit,
           l.debit_base, l.credit_base, l.description, l.tax_rate, l.tax_category, l.client_id, l.project_id,
           l.cost_center_id
    FROM unnest(CAST(:l_entry_id AS uuid[]), CAST(:l_position AS int[]), CAST(:l_account_id AS uuid[]),
                CAST(:l_currency AS text[]), CAST(:l_debit AS numeric[]), CAST(:l_credit AS numeric[]),
                CAST(:l_debit_base AS numeric[]), CAST(:l_credit_base AS numeric[]),
                CAST(:l_description AS text[]), CAST(:l_tax_rate AS numeric[]),
                CAST(:l_tax_category AS text[]), CAST(:l_client_id AS uuid[]), CAST(:l_project_id AS uuid[]),
                CAST(:l_cost_center_id AS uuid[]))
         AS l(entry_id, position, account_id, currency, debit, credit, debit_base, credit_base, description,
              tax_rate, tax_category, client_id, project_id, cost_center_id)
    JOIN entry ON entry.id = l.entry_id  -- an entry already posted (a replay) writes no lines
    RETURNING entry_id
)
-- The inserted entries (id, number), then the codes of the accounts their lines name (id, code): the events
-- carry each line's account code, without a round trip of their own.
SELECT entry.id, entry.number, entry.entry_date, NULL AS code FROM entry
UNION ALL
SELECT a.id, NULL, NULL, a.code FROM ledger_accounts a
WHERE a.id = ANY(CAST(:account_ids AS uuid[])) AND EXISTS (SELECT FROM entry)
""")

ENTRY_COLUMNS = ("id", "entry_date", "fact_date", "source_type", "source_id", "kind", "memo", "reverses_id",
                 "created_by")
LINE_COLUMNS = ("entry_id", "position", "account_id", "currency", "debit", "credit", "debit_base", "credit_base",
                "description", "tax_rate", "tax_category", "client_id", "project_id", "cost_center_id")


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: Account | Period | PeriodLog) -> None:
        self.session.add(row)

    # --- accounts ---

    async def account(self, account_id: uuid.UUID) -> Account | None:
        return await self.session.get(Account, account_id)

    async def account_by_code(self, code: str) -> Account | None:
        query = select(Account).where(func.lower(Account.code) == code.lower())
        return (await self.session.execute(query)).scalars().first()

    async def accounts_by_id(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Account]:
        rows = (await self.session.execute(select(Account).where(Account.id.in_(set(ids))))).scalars()
        return {a.id: a for a in rows}

    async def accounts(self, *, type: str | None, active: bool | None, q: str | None, limit: int,
                       offset: int) -> tuple[list[Account], int]:
        query = select(Account)
        if type is not None:
            query = query.where(Account.type == type)
        if active is not None:
            query = query.where(Account.active == active)
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(Account.name.ilike(pattern) | Account.code.ilike(pattern))
        return await page_with_total(self.session, query, Account.code, Account.id, limit=limit, offset=offset)

    async def all_accounts(self) -> list[Account]:
        return list((await self.session.execute(select(Account).order_by(Account.code))).scalars())

    async def codes(self) -> set[str]:
        return {code.lower() for code in (await self.session.execute(select(Account.code))).scalars()}

    async def balance(self, account_id: uuid.UUID, currency: str, before: date) -> Decimal:
        """Debits minus credits on the account in the currency, of the lines dated before `before`."""
        query = text("SELECT COALESCE(SUM(debit - credit), 0) FROM journal_lines "
                     "WHERE account_id = :account_id AND currency = :currency AND entry_date < :before")
        params = {"account_id": account_id, "currency": currency, "before": before}
        return Decimal((await self.session.execute(query, params)).scalar_one())

    async def expense_account_of(self, category_id: uuid.UUID) -> uuid.UUID | None:
        query = (select(Account.id).where(Account.expense_category_id == category_id, Account.active.is_(True))
                 .order_by(Account.code).limit(1))
        return (await self.session.execute(query)).scalar_one_or_none()

    async def expense_category_exists(self, category_id: uuid.UUID) -> bool:
        """The expense categories are the expenses package's table, above the ledger: read by name here, as the
        account's foreign key names it, rather than imported."""
        query = text("SELECT EXISTS (SELECT FROM expense_categories WHERE id = :id)")
        return bool((await self.session.execute(query, {"id": category_id})).scalar_one())

    # --- entries ---

    async def insert_entries(self, entries: Sequence[dict[str, Any]],
                             lines: Sequence[dict[str, Any]]
                             ) -> tuple[dict[uuid.UUID, tuple[int, date]], dict[uuid.UUID, str]]:
        """Insert the entries not posted yet, and their lines (an entry whose source and kind are already booked is
        skipped, lines and all): the inserted entries' numbers and dates by id, and the codes of the accounts
        named."""
        params: dict[str, Any] = {f"e_{c}": [e[c] for e in entries] for c in ENTRY_COLUMNS}
        params |= {f"l_{c}": [ln[c] for ln in lines] for c in LINE_COLUMNS}
        params["account_ids"] = list({ln["account_id"] for ln in lines})
        inserted: dict[uuid.UUID, tuple[int, date]] = {}
        codes: dict[uuid.UUID, str] = {}
        for row_id, number, entry_date, code in await self.session.execute(_INSERT_ENTRIES, params):
            if number is None:
                codes[row_id] = code
            else:
                inserted[row_id] = (number, entry_date)
        return inserted, codes

    async def booked(self, source_ids: Sequence[uuid.UUID], source_type: str, kind: str,
                     account: uuid.UUID) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
        """(amount, base amount) each source's entry (an invoice's issue, an expense's approval) booked on `account`,
        for those whose lines there were all converted."""
        query = text("""
            SELECT e.source_id, SUM(l.debit + l.credit) AS amount, SUM(l.debit_base + l.credit_base) AS base
            FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
            WHERE e.source_type = :source_type AND e.kind = :kind AND e.source_id = ANY(CAST(:ids AS uuid[]))
              AND l.account_id = :account AND l.debit + l.credit > 0
            GROUP BY e.source_id HAVING bool_and(l.debit_base IS NOT NULL)""")
        rows = await self.session.execute(query, {"source_type": source_type, "kind": kind, "ids": list(source_ids),
                                                  "account": account})
        return {source_id: (amount, base) for source_id, amount, base in rows}

    async def entry(self, entry_id: uuid.UUID) -> JournalEntry | None:
        return await self.session.get(JournalEntry, entry_id)

    async def entry_of(self, source_type: str, source_id: uuid.UUID, kind: str) -> JournalEntry | None:
        query = select(JournalEntry).where(JournalEntry.source_type == source_type,
                                           JournalEntry.source_id == source_id, JournalEntry.kind == kind)
        return (await self.session.execute(query)).scalars().first()

    async def lines_of(self, entry_ids: Sequence[uuid.UUID]) -> list[JournalLine]:
        query = (select(JournalLine).where(JournalLine.entry_id.in_(entry_ids))
                 .order_by(JournalLine.entry_id, JournalLine.position))
        return list((await self.session.execute(query)).scalars())

    async def entries(self, *, date_from: date | None, date_to: date | None, source_type: str | None,
                      source_id: uuid.UUID | None, account_id: uuid.UUID | None, limit: int,
                      offset: int) -> tuple[list[JournalEntry], int]:
        query = select(JournalEntry)
        if date_from is not None:
            query = query.where(JournalEntry.entry_date >= date_from)
        if date_to is not None:
            query = query.where(JournalEntry.entry_date <= date_to)
        if source_type is not None:
            query = query.where(JournalEntry.source_type == source_type)
        if source_id is not None:
            query = query.where(JournalEntry.source_id == source_id)
        if account_id is not None:
            query = query.where(JournalEntry.id.in_(
                select(JournalLine.entry_id).where(JournalLine.account_id == account_id)))
        return await page_with_total(self.session, query, JournalEntry.number.desc(), JournalEntry.id,
                                     limit=limit, offset=offset)

    # --- periods ---

    async def take_periods_lock(self) -> None:
        await self.session.execute(select(func.pg_advisory_xact_lock(PERIODS_LOCK_KEY)))

    async def closed_months(self, since: date, until: date) -> list[date]:
        query = (select(Period.month).where(Period.status == PeriodStatus.CLOSED, Period.month >= since,
                                            Period.month <= until).order_by(Period.month))
        return list((await self.session.execute(query)).scalars())

    async def period(self, month: date, *, for_update: bool = False) -> Period | None:
        query = select(Period).where(Period.month == month)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalars().first()

    async def periods(self, since: date, until: date) -> list[Period]:
        query = select(Period).where(Period.month >= since, Period.month <= until).order_by(Period.month)
        return list((await self.session.execute(query)).scalars())

    async def period_log(self, period_ids: Sequence[uuid.UUID]) -> list[PeriodLog]:
        query = (select(PeriodLog).where(PeriodLog.period_id.in_(period_ids))
                 .order_by(PeriodLog.created_at, PeriodLog.id))
        return list((await self.session.execute(query)).scalars())




# Which pair of amounts the statements sum: the lines' own currency, or the company's base currency.
Amounts = Literal["transaction", "base"]
AMOUNT_COLUMNS: dict[str, tuple[str, str]] = {"transaction": ("debit", "credit"), "base": ("debit_base", "credit_base")}
_COLUMN = {"project": "project_id", "cost_center": "cost_center_id"}


def _filters(alias: str, *, project: bool, cost_center: bool, client: bool) -> list[str]:
    where = []
    if project:
        where.append(f"{alias}.project_id = :project_id")
    if cost_center:
        where.append(f"{alias}.cost_center_id = :cost_center_id")
    if client:
        where.append(f"{alias}.client_id = :client_id")
    return where


def _column(alias: str, columns: str | None) -> str:
    return f"{alias}.{_COLUMN[columns]}::text" if columns else "NULL"


def _sums_query(columns: str | None, *, date_from: bool, project: bool, cost_center: bool, client: bool,
                amounts: Amounts = "transaction") -> str:
    debit, credit = AMOUNT_COLUMNS[amounts]
    where = ["l.entry_date <= :date_to"]
    if date_from:
        where.append("l.entry_date >= :date_from")
    where += _filters("l", project=project, cost_center=cost_center, client=client)
    return f"""
        SELECT l.account_id, l.currency, {_column("l", columns)} AS col, SUM(l.{debit}) AS debit,
               SUM(l.{credit}) AS credit
        FROM journal_lines l WHERE {' AND '.join(where)}
        GROUP BY 1, 2, 3"""


def _monthly_sums_query(columns: str | None, *, months: tuple[bool, bool] | None, line_ranges: list[bool],
                        project: bool, cost_center: bool, client: bool, amounts: Amounts) -> str:
    """The same sums as `_sums_query`: full months from the monthly balances (`months`: whether the month range
    has a lower and an upper bound), the days outside them from the lines (`line_ranges`: one range each,
    whether it has a lower bound). A key whose lines were all taken away (`lines` 0) is absent, as from the lines."""
    debit, credit = AMOUNT_COLUMNS[amounts]
    parts = []
    if months is not None:
        where = _filters("b", project=project, cost_center=cost_center, client=client)
        if months[0]:
            where.append("b.month >= :months_from")
        if months[1]:
            where.append("b.month < :months_until")
        parts.append(f"""
            SELECT b.account_id, b.currency, {_column("b", columns)} AS col, b.{debit} AS debit,
                   b.{credit} AS credit, b.lines
            FROM ledger_monthly_balances b WHERE {' AND '.join(where) or 'true'}""")
    for n, bounded in enumerate(line_ranges):
        where = [f"l.entry_date <= :lines{n}_to"] + ([f"l.entry_date >= :lines{n}_from"] if bounded else [])
        where += _filters("l", project=project, cost_center=cost_center, client=client)
        parts.append(f"""
            SELECT l.account_id, l.currency, {_column("l", columns)} AS col, l.{debit} AS debit,
                   l.{credit} AS credit, 1 AS lines
            FROM journal_lines l WHERE {' AND '.join(where)}""")
    return f"""
        SELECT s.account_id, s.currency, s.col, SUM(s.debit) AS debit, SUM(s.credit) AS credit
        FROM ({' UNION ALL '.join(parts)}) s
        GROUP BY 1, 2, 3 HAVING SUM(s.lines) > 0"""


def _base_sums_query(columns: str | None, *, date_from: bool, project: bool, cost_center: bool, client: bool) -> str:
    """The base-currency statements' sums, from the lines: the converted lines' base amounts and, per currency, what
    was not converted (in its own currency). Not from the monthly balances: they count a NULL base amount as 0 and
    so cannot tell what is left out."""
    where = ["l.entry_date <= :date_to"] + (["l.entry_date >= :date_from"] if date_from else [])
    where += _filters("l", project=project, cost_center=cost_center, client=client)
    return f"""
        SELECT l.account_id, l.currency, {_column("l", columns)} AS col, SUM(l.debit_base) AS debit_base,
               SUM(l.credit_base) AS credit_base,
               SUM(l.debit) FILTER (WHERE l.debit_base IS NULL) AS unconverted_debit,
               SUM(l.credit) FILTER (WHERE l.debit_base IS NULL) AS unconverted_credit,
               COUNT(*) FILTER (WHERE l.debit_base IS NULL) AS unconverted_lines
        FROM journal_lines l WHERE {' AND '.join(where)}
        GROUP BY 1, 2, 3"""


class StatementRepository:
    """The statements' one query: debits and credits per account, currency (and project or cost center when they
    are the columns) over a date range, one pass over the lines whatever the currency asked for; with `base`, their
    base-currency amounts and what could not be converted too."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sums(self, *, date_from: date | None, date_to: date, columns: str | None,
                   project_id: uuid.UUID | None, cost_center_id: uuid.UUID | None,
                   client_id: uuid.UUID | None, amounts: Amounts = "transaction") -> list[dict[str, Any]]:
        sql = _sums_query(columns, date_from=date_from is not None, project=project_id is not None,
                          cost_center=cost_center_id is not None, client=client_id is not None, amounts=amounts)
        params = {"date_from": date_from, "date_to": date_to, "project_id": project_id,
                  "cost_center_id": cost_center_id, "client_id": client_id}
        result = await self.session.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        return [dict(row._mapping) for row in result]

    async def base_sums(self, *, date_from: date | None, date_to: date, columns: str | None,
                        project_id: uuid.UUID | None, cost_center_id: uuid.UUID | None,
                        client_id: uuid.UUID | None) -> list[dict[str, Any]]:
        sql = _base_sums_query(columns, date_from=date_from is not None, project=project_id is not None,
                               cost_center=cost_center_id is not None, client=client_id is not None)
        params = {"date_from": date_from, "date_to": date_to, "project_id": project_id,
                  "cost_center_id": cost_center_id, "client_id": client_id}
        result = await self.session.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        return [dict(row._mapping) for row in result]

    async def sums_from_monthly_balances(
            self, *, months: tuple[date | None, date | None] | None, line_ranges: list[tuple[date | None, date]],
            columns: str | None, project_id: uuid.UUID | None, cost_center_id: uuid.UUID | None,
            client_id: uuid.UUID | None, amounts: Amounts = "transaction") -> list[dict[str, Any]]:
        """`sums` split by the caller: the months [months[0], months[1]) (first days; None: unbounded) from the
        monthly balances, each of `line_ranges` (inclusive; None: from the start) from the lines."""
        sql = _monthly_sums_query(
            columns, months=None if months is None else (months[0] is not None, months[1] is not None),
            line_ranges=[start is not None for start, _ in line_ranges], project=project_id is not None,
            cost_center=cost_center_id is not None, client=client_id is not None, amounts=amounts)
        params: dict[str, Any] = {"project_id": project_id, "cost_center_id": cost_center_id, "client_id": client_id}
        if months is not None:
            params |= {"months_from": months[0], "months_until": months[1]}
        for n, (start, end) in enumerate(line_ranges):
            params |= {f"lines{n}_from": start, f"lines{n}_to": end}
        result = await self.session.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        return [dict(row._mapping) for row in result]


# The VAT report's lines: those on the four tax accounts, and those that carry a tax category elsewhere (the
# taxable base: revenue lines of invoices and credit notes, expense lines of bills), summed per period, account,
# currency, rate and category.
_VAT_SUMS = """
    SELECT date_trunc(CAST(:period AS text), CAST(l.entry_date AS timestamp))::date AS period, l.account_id,
           l.currency, l.tax_rate, l.tax_category, SUM(l.debit) AS debit, SUM(l.credit) AS credit
    FROM journal_lines l
    WHERE l.entry_date <= :date_to {since}
      AND (l.account_id = ANY(CAST(:tax_accounts AS uuid[])) OR l.tax_category IS NOT NULL)
    GROUP BY 1, 2, 3, 4, 5"""

_EXPORT_LINES = """
    SELECT e.number, e.entry_date, e.fact_date, e.source_type, e.source_id, e.kind, e.memo, e.created_at,
           l.position, l.account_id, l.currency, l.debit, l.credit, l.tax_rate, l.tax_category, l.client_id,
           l.project_id, l.cost_center_id, l.description
    FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
    WHERE e.entry_date <= :date_to {since} {currency}
      AND (l.debit <> 0 OR l.credit <> 0)  -- an exchange difference is 0 in its currency: base-only, not exported
    ORDER BY e.number, l.position"""


class ReportRepository:
    """The VAT report's and the journal export's reads (one statement each)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def vat_sums(self, *, period: str, date_from: date | None, date_to: date,
                       tax_accounts: Sequence[uuid.UUID]) -> list[dict[str, Any]]:
        sql = _VAT_SUMS.format(since="AND l.entry_date >= :date_from" if date_from else "")
        params: dict[str, Any] = {"period": period, "date_to": date_to, "tax_accounts": list(tax_accounts)}
        if date_from:
            params["date_from"] = date_from
        return [dict(row._mapping) for row in await self.session.execute(text(sql), params)]

    async def journal_lines(self, *, date_from: date | None, date_to: date,
                            currency: str | None) -> list[dict[str, Any]]:
        """Every line posted in the range with its entry, in entry number and position order."""
        sql = _EXPORT_LINES.format(since="AND e.entry_date >= :date_from" if date_from else "",
                                   currency="AND l.currency = :currency" if currency else "")
        params: dict[str, Any] = {"date_to": date_to}
        if date_from:
            params["date_from"] = date_from
        if currency:
            params["currency"] = currency
        return [dict(row._mapping) for row in await self.session.execute(text(sql), params)]
