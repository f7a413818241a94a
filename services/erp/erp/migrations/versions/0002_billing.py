"""Billing: invoices and their lines, per-year number counters, payments, credit notes, billing runs,
time entries and dunning reminders.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per (series, year); the issuing transaction locks it FOR UPDATE, so numbers are gap-free.
    op.execute("""
        CREATE TABLE invoice_counters (
            series VARCHAR(10) NOT NULL,
            year INTEGER NOT NULL,
            last_number INTEGER NOT NULL DEFAULT 0 CHECK (last_number >= 0),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (series, year)
        )""")
    op.execute("""
        CREATE TABLE billing_runs (
            id UUID PRIMARY KEY,
            as_of DATE NOT NULL,
            issue BOOLEAN NOT NULL,
            project_id UUID,
            triggered_by VARCHAR(64) NOT NULL,
            invoices_created INTEGER NOT NULL DEFAULT 0,
            items_invoiced INTEGER NOT NULL DEFAULT 0,
            time_entries_invoiced INTEGER NOT NULL DEFAULT 0,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE invoices (
            id UUID PRIMARY KEY,
            kind VARCHAR(20) NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice', 'credit_note')),
            number VARCHAR(20) UNIQUE,
            status VARCHAR(20) NOT NULL
                CHECK (status IN ('draft', 'issued', 'partially_paid', 'paid', 'credited', 'void')),
            client_id UUID NOT NULL REFERENCES clients (id),
            project_id UUID REFERENCES projects (id),
            deal_id UUID,
            credit_of_id UUID REFERENCES invoices (id),
            schedule_item_id UUID REFERENCES schedule_items (id),
            billing_run_id UUID REFERENCES billing_runs (id),
            currency VARCHAR(3) NOT NULL,
            payment_terms_days INTEGER NOT NULL CHECK (payment_terms_days BETWEEN 0 AND 365),
            issue_date DATE,
            due_date DATE,
            subtotal NUMERIC(18, 4) NOT NULL DEFAULT 0,
            tax_total NUMERIC(18, 4) NOT NULL DEFAULT 0,
            total NUMERIC(18, 4) NOT NULL DEFAULT 0,
            amount_paid NUMERIC(18, 4) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
            amount_credited NUMERIC(18, 4) NOT NULL DEFAULT 0 CHECK (amount_credited >= 0),
            balance_due NUMERIC(18, 4) NOT NULL DEFAULT 0 CHECK (balance_due >= 0),
            late_fee_percent NUMERIC(7, 4) CHECK (late_fee_percent >= 0 AND late_fee_percent <= 100),
            notes TEXT,
            void_reason TEXT,
            issued_at TIMESTAMPTZ,
            paid_at TIMESTAMPTZ,
            voided_at TIMESTAMPTZ,
            created_by VARCHAR(64),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CHECK (status = 'draft' OR number IS NOT NULL),
            CHECK (kind = 'invoice' OR credit_of_id IS NOT NULL)
        )""")
    op.execute("CREATE INDEX ix_invoices_client ON invoices (client_id, created_at)")
    op.execute("CREATE INDEX ix_invoices_project ON invoices (project_id)")
    # The billing run's second guard: a schedule item is on at most one live invoice (a voided one frees it).
    op.execute("CREATE UNIQUE INDEX uq_invoices_schedule_item ON invoices (schedule_item_id) "
               "WHERE schedule_item_id IS NOT NULL AND status <> 'void'")
    op.execute("CREATE INDEX ix_invoices_credit_of ON invoices (credit_of_id) WHERE credit_of_id IS NOT NULL")
    op.execute("CREATE INDEX ix_invoices_open_due ON invoices (due_date) "
               "WHERE status IN ('issued', 'partially_paid')")
    op.execute("CREATE INDEX ix_invoices_created ON invoices (created_at DESC, id)")
    op.execute("""
        CREATE TABLE invoice_lines (
            id UUID PRIMARY KEY,
            invoice_id UUID NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind VARCHAR(20) NOT NULL DEFAULT 'service'
                CHECK (kind IN ('service', 'schedule', 'time', 'expense', 'cap_adjustment', 'late_fee', 'credit')),
            description VARCHAR(500) NOT NULL,
            quantity NUMERIC(14, 4) NOT NULL,
            unit_price NUMERIC(18, 4) NOT NULL,
            tax_rate NUMERIC(7, 4) NOT NULL DEFAULT 0 CHECK (tax_rate >= 0 AND tax_rate <= 100),
            net_amount NUMERIC(18, 4) NOT NULL,
            tax_amount NUMERIC(18, 4) NOT NULL,
            total_amount NUMERIC(18, 4) NOT NULL,
            schedule_item_id UUID REFERENCES schedule_items (id),
            expense_id UUID,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            UNIQUE (invoice_id, position)
        )""")
    op.execute("""
        CREATE TABLE payments (
            id UUID PRIMARY KEY,
            invoice_id UUID NOT NULL REFERENCES invoices (id),
            amount NUMERIC(18, 4) NOT NULL CHECK (amount > 0),
            currency VARCHAR(3) NOT NULL,
            paid_on DATE NOT NULL,
            method VARCHAR(20) NOT NULL
                CHECK (method IN ('bank_transfer', 'card', 'cash', 'check', 'direct_debit', 'other')),
            reference VARCHAR(200),
            recorded_by VARCHAR(64) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_payments_invoice ON payments (invoice_id)")
    op.execute("CREATE INDEX ix_payments_paid_on ON payments (paid_on)")
    op.execute("""
        CREATE TABLE time_entries (
            id UUID PRIMARY KEY,
            person_id VARCHAR(64) NOT NULL,
            project_id UUID NOT NULL REFERENCES projects (id),
            work_date DATE NOT NULL,
            hours NUMERIC(5, 2) NOT NULL CHECK (hours > 0 AND hours <= 24),
            billable BOOLEAN NOT NULL DEFAULT true,
            description TEXT,
            status VARCHAR(20) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved')),
            approved_by VARCHAR(64),
            approved_at TIMESTAMPTZ,
            invoice_id UUID REFERENCES invoices (id),
            invoice_line_id UUID REFERENCES invoice_lines (id),
            beyond_cap BOOLEAN NOT NULL DEFAULT false,
            created_by VARCHAR(64) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_time_entries_project_date ON time_entries (project_id, work_date)")
    op.execute("CREATE INDEX ix_time_entries_person_date ON time_entries (person_id, work_date)")
    op.execute("CREATE INDEX ix_time_entries_unbilled ON time_entries (project_id, work_date) "
               "WHERE invoice_id IS NULL AND billable AND status = 'approved' AND NOT beyond_cap")
    op.execute("""
        CREATE TABLE reminders (
            id UUID PRIMARY KEY,
            invoice_id UUID NOT NULL REFERENCES invoices (id),
            step INTEGER NOT NULL CHECK (step >= 1),
            days_after_due INTEGER NOT NULL,
            days_overdue INTEGER NOT NULL,
            as_of DATE NOT NULL,
            recipient VARCHAR(320),
            channel VARCHAR(10) NOT NULL CHECK (channel IN ('email', 'log')),
            subject VARCHAR(300) NOT NULL,
            body TEXT NOT NULL,
            balance_due NUMERIC(18, 4) NOT NULL,
            late_fee NUMERIC(18, 4) NOT NULL DEFAULT 0,
            delivery_status VARCHAR(10) NOT NULL DEFAULT 'pending'
                CHECK (delivery_status IN ('pending', 'sent', 'logged', 'failed')),
            delivery_error TEXT,
            sent_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            UNIQUE (invoice_id, step)
        )""")
    op.execute("CREATE INDEX ix_reminders_created ON reminders (created_at DESC, id)")


def downgrade() -> None:
    for table in ("reminders", "time_entries", "payments", "invoice_lines", "invoices", "billing_runs",
                  "invoice_counters"):
        op.execute(f"DROP TABLE {table}")
