"""Statements at volume (issue 26): the journal's lines summed per month, account, currency, client, project and
cost center, kept by statement-level triggers on journal_lines, so that a trial balance or P&L over full months
reads the summary instead of every line (erp.ledger.service.statements_from_monthly_balances; docs/erp-ledger.md,
"Cost"). Also the lines' amounts in the base currency (nullable; the FX helper adds the same two columns with the
same statement) and an index on the lines' date for the partial months at a range's edges.

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_KEY = "month, account_id, currency, client_id, project_id, cost_center_id"


def _apply(table: str, sign: str) -> str:
    """Add (sign '') or take away (sign '-') the lines of a transition table, one upsert per summary row, in key
    order (two postings touching the same rows lock them in the same order: they wait, they do not deadlock)."""
    return f"""
        INSERT INTO ledger_monthly_balances AS b ({_KEY}, debit, credit, debit_base, credit_base, lines)
        SELECT date_trunc('month', l.entry_date)::date, l.account_id, l.currency, l.client_id, l.project_id,
               l.cost_center_id, {sign}sum(l.debit), {sign}sum(l.credit), {sign}coalesce(sum(l.debit_base), 0),
               {sign}coalesce(sum(l.credit_base), 0), {sign}count(*)
        FROM {table} l
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT uq_ledger_monthly_balances DO UPDATE SET
            debit = b.debit + EXCLUDED.debit, credit = b.credit + EXCLUDED.credit,
            debit_base = b.debit_base + EXCLUDED.debit_base, credit_base = b.credit_base + EXCLUDED.credit_base,
            lines = b.lines + EXCLUDED.lines;"""


def upgrade() -> None:
    op.execute("""ALTER TABLE journal_lines ADD COLUMN IF NOT EXISTS debit_base numeric(18,4),
                  ADD COLUMN IF NOT EXISTS credit_base numeric(18,4)""")
    # The partial months at the edges of a range are read from the lines by date (a few days to a few weeks).
    op.execute("CREATE INDEX ix_journal_lines_date ON journal_lines (entry_date)")
    # One row per month (the first day of the month of the lines' entry_date, the date the period rule gave them)
    # and key; NULL client, project or cost center is a key value of its own (NULLS NOT DISTINCT). `lines` counts
    # the lines summed: a row whose lines were all taken away (lines = 0) is as if absent. The base amounts of lines
    # without them count as 0.
    op.execute(f"""
        CREATE TABLE ledger_monthly_balances (
            month DATE NOT NULL CHECK (extract(day FROM month) = 1),
            account_id UUID NOT NULL,
            currency VARCHAR(3) NOT NULL,
            client_id UUID,
            project_id UUID,
            cost_center_id UUID,
            debit NUMERIC NOT NULL,
            credit NUMERIC NOT NULL,
            debit_base NUMERIC NOT NULL,
            credit_base NUMERIC NOT NULL,
            lines BIGINT NOT NULL,
            CONSTRAINT uq_ledger_monthly_balances UNIQUE NULLS NOT DISTINCT ({_KEY})
        )""")
    # Lines are written once and never changed (erp.ledger.models.JournalLine), but the summary must not depend on
    # it: an update or a delete (an entry's cascade) takes the old lines away and adds the new ones, and a TRUNCATE
    # empties it. Statement-level with transition tables: a posting of any number of lines is one upsert per row.
    op.execute(f"""
        CREATE FUNCTION ledger_monthly_balances_apply() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN {_apply('old_lines', '-')}
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN {_apply('new_lines', '')}
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("""CREATE TRIGGER trg_journal_lines_monthly_insert AFTER INSERT ON journal_lines
                  REFERENCING NEW TABLE AS new_lines
                  FOR EACH STATEMENT EXECUTE FUNCTION ledger_monthly_balances_apply()""")
    op.execute("""CREATE TRIGGER trg_journal_lines_monthly_update AFTER UPDATE ON journal_lines
                  REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
                  FOR EACH STATEMENT EXECUTE FUNCTION ledger_monthly_balances_apply()""")
    op.execute("""CREATE TRIGGER trg_journal_lines_monthly_delete AFTER DELETE ON journal_lines
                  REFERENCING OLD TABLE AS old_lines
                  FOR EACH STATEMENT EXECUTE FUNCTION ledger_monthly_balances_apply()""")
    op.execute("""
        CREATE FUNCTION ledger_monthly_balances_clear() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            TRUNCATE ledger_monthly_balances;
            RETURN NULL;
        END $$""")
    op.execute("""CREATE TRIGGER trg_journal_lines_monthly_truncate AFTER TRUNCATE ON journal_lines
                  FOR EACH STATEMENT EXECUTE FUNCTION ledger_monthly_balances_clear()""")
    # The lines there already (the triggers above hold journal_lines' lock until this commits: no line is missed).
    op.execute(f"""
        INSERT INTO ledger_monthly_balances ({_KEY}, debit, credit, debit_base, credit_base, lines)
        SELECT date_trunc('month', entry_date)::date, account_id, currency, client_id, project_id, cost_center_id,
               sum(debit), sum(credit), coalesce(sum(debit_base), 0), coalesce(sum(credit_base), 0), count(*)
        FROM journal_lines GROUP BY 1, 2, 3, 4, 5, 6""")


def downgrade() -> None:
    for name in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER trg_journal_lines_monthly_{name} ON journal_lines")
    op.execute("DROP FUNCTION ledger_monthly_balances_apply()")
    op.execute("DROP FUNCTION ledger_monthly_balances_clear()")
    op.execute("DROP TABLE ledger_monthly_balances")
    op.execute("DROP INDEX ix_journal_lines_date")
    # debit_base and credit_base stay: the FX change adds them too (IF NOT EXISTS) and owns them.
