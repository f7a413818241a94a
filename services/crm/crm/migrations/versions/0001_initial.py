"""Companies, contacts, pipelines with the default stages, deals and their stage history, ERP facts,
and the messaging tables (outbox, inbox).

Revision ID: 0001
"""

from alembic import op

from throughline_messaging.tables import create_messaging_tables_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DEFAULT_PIPELINE_ID = "00000000-0000-4000-8000-000000000001"
DEFAULT_STAGES = [
    # id suffix, name, position, probability, kind
    ("101", "Lead in", 1, "10", "open"),
    ("102", "Qualified", 2, "25", "open"),
    ("103", "Proposal", 3, "50", "open"),
    ("104", "Negotiation", 4, "75", "open"),
    ("105", "Won", 5, "100", "won"),
    ("106", "Lost", 6, "0", "lost"),
]


def upgrade() -> None:
    for statement in create_messaging_tables_sql():
        op.execute(statement)
    op.execute("""
        CREATE TABLE companies (
            id UUID PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            domain VARCHAR(253),
            email VARCHAR(320),
            phone VARCHAR(50),
            address TEXT,
            industry VARCHAR(100),
            size INTEGER,
            owner_id VARCHAR(64),
            version INTEGER NOT NULL DEFAULT 1,
            deleted_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_companies_domain ON companies (lower(domain)) WHERE deleted_at IS NULL")
    op.execute("CREATE INDEX ix_companies_name ON companies (name)")
    op.execute("""
        CREATE TABLE contacts (
            id UUID PRIMARY KEY,
            company_id UUID REFERENCES companies (id),
            first_name VARCHAR(100) NOT NULL,
            last_name VARCHAR(100) NOT NULL DEFAULT '',
            email VARCHAR(320),
            phone VARCHAR(50),
            title VARCHAR(100),
            version INTEGER NOT NULL DEFAULT 1,
            deleted_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_contacts_company_id ON contacts (company_id)")
    op.execute("CREATE INDEX ix_contacts_email ON contacts (lower(email)) WHERE deleted_at IS NULL")
    op.execute("""
        CREATE TABLE pipelines (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL UNIQUE,
            is_default BOOLEAN NOT NULL DEFAULT false,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE stages (
            id UUID PRIMARY KEY,
            pipeline_id UUID NOT NULL REFERENCES pipelines (id),
            name VARCHAR(100) NOT NULL,
            position INTEGER NOT NULL,
            probability NUMERIC(5, 2) NOT NULL CHECK (probability BETWEEN 0 AND 100),
            kind VARCHAR(10) NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_stages_pipeline_id ON stages (pipeline_id)")
    op.execute(f"INSERT INTO pipelines (id, name, is_default) VALUES ('{DEFAULT_PIPELINE_ID}', 'Sales', true)")
    for suffix, name, position, probability, kind in DEFAULT_STAGES:
        op.execute(
            "INSERT INTO stages (id, pipeline_id, name, position, probability, kind) VALUES "
            f"('00000000-0000-4000-8000-000000000{suffix}', '{DEFAULT_PIPELINE_ID}', '{name}', {position}, "
            f"{probability}, '{kind}')"
        )
    op.execute("""
        CREATE TABLE deals (
            id UUID PRIMARY KEY,
            title VARCHAR(200) NOT NULL,
            company_id UUID NOT NULL REFERENCES companies (id),
            contact_id UUID REFERENCES contacts (id),
            pipeline_id UUID NOT NULL REFERENCES pipelines (id),
            stage_id UUID NOT NULL REFERENCES stages (id),
            amount NUMERIC(18, 4) NOT NULL CHECK (amount >= 0),
            currency VARCHAR(3) NOT NULL,
            owner_id VARCHAR(64),
            expected_close_date DATE,
            billing_terms JSONB,
            status VARCHAR(10) NOT NULL CHECK (status IN ('open', 'won', 'lost')),
            stage_entered_at TIMESTAMPTZ NOT NULL,
            won_at TIMESTAMPTZ,
            lost_at TIMESTAMPTZ,
            lost_reason TEXT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_deals_company_id ON deals (company_id)")
    op.execute("CREATE INDEX ix_deals_status_stage ON deals (status, stage_id)")
    op.execute("CREATE INDEX ix_deals_owner_status ON deals (owner_id, status)")
    op.execute("CREATE INDEX ix_deals_expected_close ON deals (expected_close_date)")
    op.execute("CREATE INDEX ix_deals_created_at ON deals (created_at DESC, id)")
    op.execute("""
        CREATE TABLE deal_stage_changes (
            id UUID PRIMARY KEY,
            deal_id UUID NOT NULL REFERENCES deals (id),
            from_stage_id UUID REFERENCES stages (id),
            to_stage_id UUID NOT NULL REFERENCES stages (id),
            changed_by VARCHAR(64),
            changed_at TIMESTAMPTZ NOT NULL,
            seconds_in_previous_stage INTEGER,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_deal_stage_changes_deal_id ON deal_stage_changes (deal_id, changed_at)")
    op.execute("""
        CREATE TABLE erp_facts (
            id UUID PRIMARY KEY,
            kind VARCHAR(50) NOT NULL,
            company_id UUID,
            deal_id UUID,
            summary TEXT NOT NULL,
            data JSONB NOT NULL,
            occurred_at TIMESTAMPTZ NOT NULL,
            source_event_id UUID NOT NULL UNIQUE,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_erp_facts_company ON erp_facts (company_id, occurred_at)")
    op.execute("CREATE INDEX ix_erp_facts_deal ON erp_facts (deal_id, occurred_at)")


def downgrade() -> None:
    for table in ("erp_facts", "deal_stage_changes", "deals", "stages", "pipelines", "contacts", "companies",
                  "inbox", "outbox"):
        op.execute(f"DROP TABLE {table}")
