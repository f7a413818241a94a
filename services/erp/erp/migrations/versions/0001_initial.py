"""Clients (CRM replica), projects, billing schedules and their items, and the messaging tables.

Revision ID: 0001
"""

from alembic import op

from throughline_messaging.tables import create_messaging_tables_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in create_messaging_tables_sql():
        op.execute(statement)
    op.execute("""
        CREATE TABLE clients (
            id UUID PRIMARY KEY,
            crm_company_id UUID UNIQUE,
            name VARCHAR(200) NOT NULL,
            email VARCHAR(320),
            phone VARCHAR(50),
            address TEXT,
            crm_version INTEGER NOT NULL DEFAULT 0,
            crm_deleted BOOLEAN NOT NULL DEFAULT false,
            billing_address TEXT,
            tax_id VARCHAR(50),
            payment_terms_days INTEGER NOT NULL DEFAULT 30,
            currency VARCHAR(3),
            replicated_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_clients_name ON clients (name)")
    op.execute("""
        CREATE TABLE projects (
            id UUID PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            client_id UUID NOT NULL REFERENCES clients (id),
            deal_id UUID UNIQUE,
            owner_id VARCHAR(64),
            status VARCHAR(20) NOT NULL CHECK (status IN ('active', 'on_hold', 'completed', 'cancelled')),
            budget_amount NUMERIC(18, 4) NOT NULL,
            budget_hours NUMERIC(10, 2),
            currency VARCHAR(3) NOT NULL,
            cost_center_id UUID,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_projects_client_id ON projects (client_id)")
    op.execute("CREATE INDEX ix_projects_created_at ON projects (created_at DESC, id)")
    op.execute("""
        CREATE TABLE billing_schedules (
            id UUID PRIMARY KEY,
            project_id UUID NOT NULL UNIQUE REFERENCES projects (id),
            billing_type VARCHAR(30) NOT NULL,
            currency VARCHAR(3) NOT NULL,
            total NUMERIC(18, 4) NOT NULL,
            hourly_rate NUMERIC(18, 4),
            cap NUMERIC(18, 4),
            terms JSONB,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE schedule_items (
            id UUID PRIMARY KEY,
            schedule_id UUID NOT NULL REFERENCES billing_schedules (id),
            position INTEGER NOT NULL,
            label VARCHAR(200) NOT NULL,
            due_date DATE,
            amount NUMERIC(18, 4) NOT NULL,
            status VARCHAR(20) NOT NULL DEFAULT 'pending',
            reached_at TIMESTAMPTZ,
            invoice_id UUID,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            UNIQUE (schedule_id, position)
        )""")
    op.execute("CREATE INDEX ix_schedule_items_due ON schedule_items (due_date) WHERE status = 'pending'")


def downgrade() -> None:
    for table in ("schedule_items", "billing_schedules", "projects", "clients", "inbox", "outbox"):
        op.execute(f"DROP TABLE {table}")
