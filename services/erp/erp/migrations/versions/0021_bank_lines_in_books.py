"""Bank lines in the books (issue 26): which ledger account each bank account (a statement's IBAN) books to, and
what a person reconciling decided for a line that pays no invoice: the account a set-aside credit or a debit is
booked against, or the vendor bill payment a debit is.

Revision ID: 0021
Revises: 0019
"""

from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None

_METHODS = "'reference', 'amount_and_iban', 'amount_and_name', 'manual'"


def upgrade() -> None:
    # One row per bank account seen on a statement: its ledger account (1000 Bank for the first; a new asset
    # account for each other). Statements imported before this migration are linked when next touched.
    op.execute("""
        CREATE TABLE bank_ledger_accounts (
            id UUID PRIMARY KEY,
            account VARCHAR(50) NOT NULL UNIQUE,
            currency VARCHAR(3) NOT NULL,
            ledger_account_id UUID NOT NULL UNIQUE REFERENCES ledger_accounts (id),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("ALTER TABLE bank_lines ADD COLUMN ledger_account_id UUID REFERENCES ledger_accounts (id)")
    op.execute("ALTER TABLE bank_lines ADD COLUMN bill_payment_id UUID UNIQUE REFERENCES bill_payments (id)")
    # A debit is now reconciled too: matched (a bill payment) or ignored (set aside to an account), not only `debit`
    # (waiting); `unmatched` stays a credit's.
    op.execute("ALTER TABLE bank_lines DROP CONSTRAINT bank_lines_check1")  # (direction = 'debit') = (status = 'debit')
    op.execute("ALTER TABLE bank_lines ADD CONSTRAINT ck_bank_lines_status_direction CHECK "
               "((status <> 'debit' OR direction = 'debit') AND (status <> 'unmatched' OR direction = 'credit'))")
    # A line said to be a payment recorded by hand: matched by linking, nothing paid anew.
    op.execute("ALTER TABLE bank_line_matches DROP CONSTRAINT bank_line_matches_method_check")
    op.execute("ALTER TABLE bank_line_matches ADD CONSTRAINT bank_line_matches_method_check "
               f"CHECK (method IN ({_METHODS}, 'linked'))")
    op.execute("ALTER TABLE bank_lines ADD COLUMN bookings INTEGER NOT NULL DEFAULT 0 CHECK (bookings >= 0)")


def downgrade() -> None:
    op.execute("UPDATE bank_lines SET status = 'debit' WHERE direction = 'debit'")
    op.execute("ALTER TABLE bank_lines DROP CONSTRAINT ck_bank_lines_status_direction")
    op.execute("ALTER TABLE bank_lines ADD CONSTRAINT bank_lines_check1 CHECK ((direction = 'debit') = (status = 'debit'))")
    op.execute("DELETE FROM bank_line_matches WHERE method = 'linked'")
    op.execute("ALTER TABLE bank_line_matches DROP CONSTRAINT bank_line_matches_method_check")
    op.execute(f"ALTER TABLE bank_line_matches ADD CONSTRAINT bank_line_matches_method_check CHECK (method IN ({_METHODS}))")
    op.execute("ALTER TABLE bank_lines DROP COLUMN bookings")
    op.execute("ALTER TABLE bank_lines DROP COLUMN bill_payment_id")
    op.execute("ALTER TABLE bank_lines DROP COLUMN ledger_account_id")
    op.execute("DROP TABLE bank_ledger_accounts")
