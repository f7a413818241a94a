"""Planning (issue 23): the replica of the CRM's deals (erp.pipeline), fed by crm.deal.events, and the bookings of
people on projects and deals by week (erp.planning).

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
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


    op.execute("""
        CREATE TABLE bookings (
            id UUID PRIMARY KEY,
            person_id VARCHAR(64) NOT NULL,
            project_id UUID REFERENCES projects (id),
            deal_id UUID REFERENCES pipeline_deals (deal_id),
            week DATE NOT NULL CHECK (extract(isodow FROM week) = 1),
            hours NUMERIC(5, 2) NOT NULL CHECK (hours > 0 AND hours <= 168),
            status VARCHAR(10) NOT NULL CHECK (status IN ('tentative', 'confirmed')),
            note TEXT,
            created_by VARCHAR(64) NOT NULL,
            updated_by VARCHAR(64) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT ck_bookings_names_work CHECK (project_id IS NOT NULL OR deal_id IS NOT NULL),
            CONSTRAINT ck_bookings_deal_tentative CHECK (project_id IS NOT NULL OR status = 'tentative')
        )""")
    # The planning board reads a range of weeks for everybody; a person's week for the over-capacity flag.
    op.execute("CREATE INDEX ix_bookings_week_person ON bookings (week, person_id)")
    op.execute("CREATE INDEX ix_bookings_person_week ON bookings (person_id, week)")
    op.execute("CREATE INDEX ix_bookings_project ON bookings (project_id)")
    op.execute("CREATE INDEX ix_bookings_deal ON bookings (deal_id)")


def downgrade() -> None:
    op.execute("DROP TABLE bookings")
    op.execute("DROP TABLE pipeline_deals")
