"""Payables, exchange rates and cash-flow scenarios (issue 26): vendors, vendor bills with their lines, approval
history and payments; daily exchange rates; recurring cash items, entered opening balances and saved scenarios.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE vendors (
            id UUID PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            address TEXT,
            country VARCHAR(2),
            vat_id VARCHAR(20),
            iban VARCHAR(34),
            email VARCHAR(320),
            currency VARCHAR(3) NOT NULL,
            payment_terms_days INTEGER NOT NULL CHECK (payment_terms_days BETWEEN 0 AND 365),
            active BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE UNIQUE INDEX uq_vendors_name ON vendors (lower(name))")
    op.execute("""
        CREATE TABLE bills (
            id UUID PRIMARY KEY,
            vendor_id UUID NOT NULL REFERENCES vendors (id),
            vendor_reference VARCHAR(100) NOT NULL,
            bill_date DATE NOT NULL,
            due_date DATE NOT NULL CHECK (due_date >= bill_date),
            currency VARCHAR(3) NOT NULL,
            exchange_rate NUMERIC(20, 10),
            status VARCHAR(20) NOT NULL
                CHECK (status IN ('draft', 'submitted', 'approved', 'rejected', 'partly_paid', 'paid')),
            subtotal NUMERIC(18, 4) NOT NULL DEFAULT 0,
            tax_total NUMERIC(18, 4) NOT NULL DEFAULT 0,
            reverse_charge_tax NUMERIC(18, 4) NOT NULL DEFAULT 0,
            total NUMERIC(18, 4) NOT NULL DEFAULT 0,
            amount_paid NUMERIC(18, 4) NOT NULL DEFAULT 0,
            balance_due NUMERIC(18, 4) NOT NULL DEFAULT 0,
            project_id UUID REFERENCES projects (id),
            cost_center_id UUID REFERENCES cost_centers (id),
            notes TEXT,
            entered_by VARCHAR(64) NOT NULL,
            required_approval VARCHAR(20),
            submitted_at TIMESTAMPTZ,
            decided_by VARCHAR(64),
            decided_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_bills_vendor_reference UNIQUE (vendor_id, vendor_reference),
            CHECK (amount_paid >= 0 AND amount_paid <= total),
            CHECK (balance_due = total - amount_paid)
        )""")
    # AP aging and the forecast read the open bills by due date.
    op.execute("CREATE INDEX ix_bills_open ON bills (due_date) WHERE status IN ('submitted', 'approved', "
               "'partly_paid')")
    op.execute("CREATE INDEX ix_bills_vendor ON bills (vendor_id, bill_date)")
    op.execute("""
        CREATE TABLE bill_lines (
            id UUID PRIMARY KEY,
            bill_id UUID NOT NULL REFERENCES bills (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            description VARCHAR(500) NOT NULL,
            quantity NUMERIC(12, 4) NOT NULL CHECK (quantity > 0),
            unit_price NUMERIC(18, 4) NOT NULL CHECK (unit_price >= 0),
            net NUMERIC(18, 4) NOT NULL,
            tax_rate_id UUID REFERENCES tax_rates (id),
            tax_percent NUMERIC(7, 4) NOT NULL,
            tax_category VARCHAR(20) NOT NULL,
            tax_amount NUMERIC(18, 4) NOT NULL,
            reverse_charge_percent NUMERIC(7, 4) NOT NULL DEFAULT 0,
            reverse_charge_tax NUMERIC(18, 4) NOT NULL DEFAULT 0,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_bill_lines_position UNIQUE (bill_id, position)
        )""")
    op.execute("""
        CREATE TABLE bill_history (
            id UUID PRIMARY KEY,
            bill_id UUID NOT NULL REFERENCES bills (id) ON DELETE CASCADE,
            action VARCHAR(30) NOT NULL,
            from_status VARCHAR(20),
            to_status VARCHAR(20) NOT NULL,
            actor_id VARCHAR(64) NOT NULL,
            actor_role VARCHAR(30) NOT NULL,
            comment TEXT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_bill_history_bill ON bill_history (bill_id, created_at)")
    op.execute("""
        CREATE TABLE bill_payments (
            id UUID PRIMARY KEY,
            bill_id UUID NOT NULL REFERENCES bills (id),
            amount NUMERIC(18, 4) NOT NULL CHECK (amount > 0),
            paid_on DATE NOT NULL,
            reference VARCHAR(200),
            recorded_by VARCHAR(64) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_bill_payments_bill ON bill_payments (bill_id, paid_on)")
    op.execute("""
        CREATE TABLE exchange_rates (
            id UUID PRIMARY KEY,
            base_currency VARCHAR(3) NOT NULL,
            currency VARCHAR(3) NOT NULL CHECK (currency <> base_currency),
            rate_date DATE NOT NULL,
            rate NUMERIC(20, 10) NOT NULL CHECK (rate > 0),
            source VARCHAR(10) NOT NULL CHECK (source IN ('manual', 'csv')),
            entered_by VARCHAR(64) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_exchange_rates_day UNIQUE (base_currency, currency, rate_date)
        )""")
    op.execute("""
        CREATE TABLE recurring_items (
            id UUID PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            kind VARCHAR(20) NOT NULL CHECK (kind IN ('payroll', 'rent', 'software', 'tax', 'other')),
            direction VARCHAR(3) NOT NULL CHECK (direction IN ('out', 'in')),
            amount NUMERIC(18, 4) NOT NULL CHECK (amount > 0),
            currency VARCHAR(3) NOT NULL,
            interval VARCHAR(10) NOT NULL CHECK (interval IN ('week', 'month', 'quarter', 'year')),
            start_date DATE NOT NULL,
            end_date DATE CHECK (end_date IS NULL OR end_date >= start_date),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE cash_opening_balances (
            id UUID PRIMARY KEY,
            as_of DATE NOT NULL,
            amount NUMERIC(18, 4) NOT NULL,
            currency VARCHAR(3) NOT NULL,
            note TEXT,
            entered_by VARCHAR(64) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_cash_opening_balances_as_of ON cash_opening_balances (as_of DESC, created_at DESC)")
    op.execute("""
        CREATE TABLE cash_scenarios (
            id UUID PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            description TEXT,
            adjustments JSONB NOT NULL,
            created_by VARCHAR(64) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE UNIQUE INDEX uq_cash_scenarios_name ON cash_scenarios (lower(name))")


def downgrade() -> None:
    for table in ("cash_scenarios", "cash_opening_balances", "recurring_items", "exchange_rates", "bill_payments",
                  "bill_history", "bill_lines", "bills", "vendors"):
        op.execute(f"DROP TABLE {table}")
