"""The ledger in the company's base currency (issue 26, multi-currency): each journal line's debit and credit in the
base currency, filled at posting time from the day's exchange rate (NULL when the entry could not be converted).

The lines posted before this revision: those of entries wholly in the base currency get their own amounts (exact);
entries with a line in another currency stay NULL and the base-currency statements list them as unconverted
(decision 192: converting them now would add exchange-difference lines to entries already posted).

The columns are added `IF NOT EXISTS`: another change of the same release adds the same two (same names and types).

Revision ID: 0022
Revises: 0021
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


# The lines of entries wholly in the base currency, not converted yet: their own amounts (re-runnable).
BACKFILL = """
    UPDATE journal_lines l SET debit_base = l.debit, credit_base = l.credit
    FROM company_profile p
    WHERE l.currency = p.base_currency AND l.debit_base IS NULL AND l.credit_base IS NULL
      AND NOT EXISTS (SELECT FROM journal_lines o WHERE o.entry_id = l.entry_id AND o.currency <> p.base_currency)"""


def upgrade() -> None:
    op.execute("ALTER TABLE journal_lines ADD COLUMN IF NOT EXISTS debit_base numeric(18,4), "
               "ADD COLUMN IF NOT EXISTS credit_base numeric(18,4)")
    # A line is a debit or a credit in its currency, or (an exchange difference) 0 there and one side in the base
    # currency only; base amounts are never negative.
    op.execute("ALTER TABLE journal_lines DROP CONSTRAINT IF EXISTS ck_journal_lines_one_side")
    op.execute("""
        ALTER TABLE journal_lines ADD CONSTRAINT ck_journal_lines_one_side CHECK (
            (debit = 0) <> (credit = 0)
            OR (debit = 0 AND credit = 0 AND (coalesce(debit_base, 0) = 0) <> (coalesce(credit_base, 0) = 0)))""")
    op.execute("ALTER TABLE journal_lines ADD CONSTRAINT ck_journal_lines_base_positive "
               "CHECK (coalesce(debit_base, 0) >= 0 AND coalesce(credit_base, 0) >= 0)")
    op.execute(BACKFILL)


def downgrade() -> None:
    op.execute("DELETE FROM journal_lines WHERE debit = 0 AND credit = 0")  # exchange differences: base only
    op.execute("ALTER TABLE journal_lines DROP CONSTRAINT ck_journal_lines_base_positive")
    op.execute("ALTER TABLE journal_lines DROP CONSTRAINT ck_journal_lines_one_side")
    op.execute("ALTER TABLE journal_lines ADD CONSTRAINT ck_journal_lines_one_side CHECK ((debit = 0) <> (credit = 0))")
    op.execute("ALTER TABLE journal_lines DROP COLUMN IF EXISTS debit_base, DROP COLUMN IF EXISTS credit_base")
