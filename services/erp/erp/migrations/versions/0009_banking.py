"""Banking: imported bank statements, their lines, the payments each line made, saved CSV column mappings.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE bank_csv_mappings (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL UNIQUE,
            account VARCHAR(50) NOT NULL,
            currency VARCHAR(3),
            delimiter VARCHAR(2) NOT NULL,
            decimal_separator VARCHAR(1) NOT NULL CHECK (decimal_separator IN ('.', ',')),
            date_format VARCHAR(20) NOT NULL,
            encoding VARCHAR(20) NOT NULL,
            columns JSONB NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE bank_statements (
            id UUID PRIMARY KEY,
            format VARCHAR(10) NOT NULL CHECK (format IN ('camt053', 'mt940', 'csv')),
            account VARCHAR(50) NOT NULL,
            currency VARCHAR(3) NOT NULL,
            statement_id VARCHAR(100),
            opening_balance NUMERIC(18, 4),
            opening_date DATE,
            closing_balance NUMERIC(18, 4),
            closing_date DATE,
            first_booking_date DATE,
            last_booking_date DATE,
            fingerprint VARCHAR(64) NOT NULL,
            file_name VARCHAR(255),
            file_sha256 VARCHAR(64) NOT NULL,
            mapping_id UUID REFERENCES bank_csv_mappings (id) ON DELETE SET NULL,
            line_count INTEGER NOT NULL DEFAULT 0,
            matched_count INTEGER NOT NULL DEFAULT 0,
            unmatched_count INTEGER NOT NULL DEFAULT 0,
            debit_count INTEGER NOT NULL DEFAULT 0,
            duplicate_count INTEGER NOT NULL DEFAULT 0,
            overpaid_count INTEGER NOT NULL DEFAULT 0,
            imported_by VARCHAR(64) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_bank_statements_fingerprint UNIQUE (fingerprint)
        )""")
    op.execute("CREATE INDEX ix_bank_statements_account ON bank_statements (account, closing_date)")
    op.execute("""
        CREATE TABLE bank_lines (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            statement_id UUID NOT NULL REFERENCES bank_statements (id),
            account VARCHAR(50) NOT NULL,
            transaction_key VARCHAR(200) NOT NULL,
            position INTEGER NOT NULL,
            direction VARCHAR(6) NOT NULL CHECK (direction IN ('credit', 'debit')),
            amount NUMERIC(18, 4) NOT NULL CHECK (amount > 0),
            currency VARCHAR(3) NOT NULL,
            booking_date DATE NOT NULL,
            value_date DATE,
            counterparty_name VARCHAR(200),
            counterparty_iban VARCHAR(34),
            structured_reference VARCHAR(500),
            remittance TEXT,
            bank_reference VARCHAR(100),
            end_to_end_id VARCHAR(100),
            reversal BOOLEAN NOT NULL DEFAULT false,
            status VARCHAR(12) NOT NULL CHECK (status IN ('unmatched', 'matched', 'ignored', 'debit')),
            applied_amount NUMERIC(18, 4) NOT NULL DEFAULT 0,
            match_method VARCHAR(20),
            note TEXT,
            reconciled_by VARCHAR(64),
            reconciled_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_bank_lines_transaction UNIQUE (account, transaction_key),
            CHECK (applied_amount >= 0 AND applied_amount <= amount),
            CHECK ((direction = 'debit') = (status = 'debit'))
        )""")
    op.execute("CREATE INDEX ix_bank_lines_statement ON bank_lines (statement_id, position)")
    # The reconciliation screen's queue, oldest first.
    op.execute("CREATE INDEX ix_bank_lines_waiting ON bank_lines (booking_date, id) WHERE status = 'unmatched'")
    # Which clients a payer's account paid for before (matching by amount and IBAN).
    op.execute("CREATE INDEX ix_bank_lines_counterparty_iban ON bank_lines (counterparty_iban) "
               "WHERE counterparty_iban IS NOT NULL")
    op.execute("""
        CREATE TABLE bank_line_matches (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            line_id UUID NOT NULL REFERENCES bank_lines (id),
            invoice_id UUID NOT NULL REFERENCES invoices (id),
            payment_id UUID NOT NULL REFERENCES payments (id),
            amount NUMERIC(18, 4) NOT NULL CHECK (amount > 0),
            method VARCHAR(20) NOT NULL
                CHECK (method IN ('reference', 'amount_and_iban', 'amount_and_name', 'manual')),
            matched_by VARCHAR(64) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_bank_line_matches_payment UNIQUE (payment_id)
        )""")
    op.execute("CREATE INDEX ix_bank_line_matches_line ON bank_line_matches (line_id)")
    op.execute("CREATE INDEX ix_bank_line_matches_invoice ON bank_line_matches (invoice_id)")


def downgrade() -> None:
    op.execute("DROP TABLE bank_line_matches")
    op.execute("DROP TABLE bank_lines")
    op.execute("DROP TABLE bank_statements")
    op.execute("DROP TABLE bank_csv_mappings")
