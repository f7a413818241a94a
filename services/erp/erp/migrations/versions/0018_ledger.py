"""The ledger (issue 26): a chart of accounts with a default chart for a service business, journal entries and their
lines, accounting periods and the log of their closes and reopenings (docs/erp-ledger.md).

The default accounts have fixed ids (`erp.ledger.chart`): the automatic postings name them by role, never by a
lookup, and finance may renumber or rename them freely.

Revision ID: 0018
Revises: 0017
"""

import uuid

import sqlalchemy as sa
from alembic import op

from erp.ledger.chart import DEFAULT_CHART
from erp.ledger.models import PERIODS_LOCK_KEY

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE ledger_accounts (
            id UUID PRIMARY KEY,
            code VARCHAR(20) NOT NULL,
            name VARCHAR(200) NOT NULL,
            type VARCHAR(20) NOT NULL CHECK (type IN ('asset', 'liability', 'equity', 'income', 'expense')),
            currency VARCHAR(3),
            role VARCHAR(40) UNIQUE,
            expense_category_id UUID REFERENCES expense_categories (id) ON DELETE SET NULL,
            description TEXT,
            active BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE UNIQUE INDEX uq_ledger_accounts_code ON ledger_accounts (lower(code))")
    op.execute("""
        CREATE TABLE journal_entries (
            id UUID PRIMARY KEY,
            number BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            entry_date DATE NOT NULL,
            fact_date DATE NOT NULL,
            source_type VARCHAR(30) NOT NULL,
            source_id UUID,
            kind VARCHAR(30) NOT NULL,
            memo TEXT,
            reverses_id UUID REFERENCES journal_entries (id),
            created_by VARCHAR(64),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    # Exactly once: a business fact posts one entry of each kind, whatever replays it (manual entries have no source).
    op.execute("""CREATE UNIQUE INDEX uq_journal_entries_source ON journal_entries (source_type, source_id, kind)
                  WHERE source_id IS NOT NULL""")
    op.execute("CREATE INDEX ix_journal_entries_date ON journal_entries (entry_date, number)")
    op.execute("""
        CREATE TABLE journal_lines (
            entry_id UUID NOT NULL REFERENCES journal_entries (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            account_id UUID NOT NULL REFERENCES ledger_accounts (id),
            entry_date DATE NOT NULL,
            currency VARCHAR(3) NOT NULL,
            debit NUMERIC(18, 4) NOT NULL DEFAULT 0 CHECK (debit >= 0),
            credit NUMERIC(18, 4) NOT NULL DEFAULT 0 CHECK (credit >= 0),
            description VARCHAR(500),
            tax_rate NUMERIC(7, 4),
            tax_category VARCHAR(20),
            client_id UUID,
            project_id UUID,
            cost_center_id UUID,
            CONSTRAINT ck_journal_lines_one_side CHECK ((debit = 0) <> (credit = 0)),
            -- A line is its entry's n-th: no key of its own to generate and index (every posting writes several).
            PRIMARY KEY (entry_id, position)
        )""")
    # An account's lines over a date range (the entry's date is copied onto its lines for that); the statements
    # read every line of a range in one pass, which an index on the date alone would not make cheaper.
    op.execute("CREATE INDEX ix_journal_lines_account_date ON journal_lines (account_id, entry_date)")
    op.execute("CREATE INDEX ix_journal_lines_client ON journal_lines (client_id) WHERE client_id IS NOT NULL")
    op.execute("""
        CREATE TABLE ledger_periods (
            id UUID PRIMARY KEY,
            month DATE NOT NULL UNIQUE CHECK (extract(day FROM month) = 1),
            status VARCHAR(10) NOT NULL CHECK (status IN ('open', 'closed')),
            closed_at TIMESTAMPTZ,
            closed_by VARCHAR(64),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    # The period rule at the one place every entry passes (docs/erp-ledger.md, periods), so that posting stays one
    # statement: each insert takes the periods' lock shared (a close takes it exclusively, waiting for the postings
    # in flight), then, with a fresh snapshot (each statement of a volatile function takes one), moves a fact dated
    # in a closed month to the first day of the first open month after it. A manual entry there is refused (the
    # service says so first, with a 422; this is the guard against a close committed meanwhile).
    op.execute(f"""
        CREATE FUNCTION ledger_entry_period() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            open_month date := date_trunc('month', NEW.fact_date)::date;
        BEGIN
            PERFORM pg_advisory_xact_lock_shared({PERIODS_LOCK_KEY});
            WHILE EXISTS (SELECT FROM ledger_periods p WHERE p.month = open_month AND p.status = 'closed') LOOP
                IF NEW.source_type = 'manual' THEN
                    RAISE EXCEPTION 'the month % is closed', to_char(open_month, 'YYYY-MM')
                        USING ERRCODE = 'check_violation';
                END IF;
                open_month := (open_month + interval '1 month')::date;
                NEW.entry_date := open_month;
            END LOOP;
            RETURN NEW;
        END $$""")
    op.execute("""CREATE TRIGGER trg_journal_entries_period BEFORE INSERT ON journal_entries
                  FOR EACH ROW EXECUTE FUNCTION ledger_entry_period()""")
    op.execute("""
        CREATE TABLE ledger_period_log (
            id UUID PRIMARY KEY,
            period_id UUID NOT NULL REFERENCES ledger_periods (id) ON DELETE CASCADE,
            action VARCHAR(10) NOT NULL CHECK (action IN ('closed', 'reopened')),
            reason TEXT,
            actor_id VARCHAR(64) NOT NULL,
            actor_role VARCHAR(30) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    accounts = sa.table("ledger_accounts", sa.column("id", sa.Uuid), sa.column("code"), sa.column("name"),
                        sa.column("type"), sa.column("role"), sa.column("expense_category_id", sa.Uuid))
    op.bulk_insert(accounts, [
        {"id": a.id, "code": a.code, "name": a.name, "type": a.type.value, "role": a.role.value,
         "expense_category_id": uuid.UUID(a.expense_category_id) if a.expense_category_id else None}
        for a in DEFAULT_CHART])

def downgrade() -> None:
    op.execute("DROP TRIGGER trg_journal_entries_period ON journal_entries")
    op.execute("DROP FUNCTION ledger_entry_period()")
    for table in ("ledger_period_log", "ledger_periods", "journal_lines", "journal_entries", "ledger_accounts"):
        op.execute(f"DROP TABLE {table}")
