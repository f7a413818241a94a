"""Planning (issue 23): the replica of the CRM's deals (erp.pipeline), fed by crm.deal.events.

Revision ID: 0017
Revises: 0013
"""

from alembic import op

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE pipeline_deals (
            id UUID PRIMARY KEY,
            deal_id UUID NOT NULL UNIQUE,
            company_id UUID,
            title TEXT,
            amount NUMERIC(18, 4),
            currency VARCHAR(3),
            expected_close_date DATE,
            details_at TIMESTAMPTZ,
            stage_id UUID,
            stage_name TEXT,
            probability NUMERIC(5, 2),
            status VARCHAR(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
            position_at TIMESTAMPTZ,
            closed_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    # The open deals, soonest to close first (erp.pipeline.repository.open_deals).
    op.execute("CREATE INDEX ix_pipeline_deals_open ON pipeline_deals (expected_close_date) WHERE status = 'open'")


def downgrade() -> None:
    op.execute("DROP TABLE pipeline_deals")
