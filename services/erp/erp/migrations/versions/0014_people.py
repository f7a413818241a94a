"""People (issue 23): the directory the gateway's users feed (`gateway.user.events`), and each person's list rate
as a dated series beside their cost rates and capacities (which stay where they are, keyed by the same id).

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE people (
            id VARCHAR(64) PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            email VARCHAR(320) NOT NULL,
            role VARCHAR(20) NOT NULL,
            active BOOLEAN NOT NULL DEFAULT true,
            department VARCHAR(100),
            cost_center_id UUID REFERENCES cost_centers (id),
            user_changed_at TIMESTAMPTZ NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    # The directory lists people by name; the department report groups them by department or cost center.
    op.execute("CREATE INDEX ix_people_name ON people (lower(name), id)")
    op.execute("CREATE INDEX ix_people_department ON people (department) WHERE department IS NOT NULL")
    op.execute("CREATE INDEX ix_people_cost_center ON people (cost_center_id) WHERE cost_center_id IS NOT NULL")
    op.execute("""
        CREATE TABLE list_rates (
            id UUID PRIMARY KEY,
            user_id VARCHAR(64) NOT NULL,
            hourly_rate NUMERIC(18, 4) NOT NULL CHECK (hourly_rate >= 0),
            currency VARCHAR(3) NOT NULL,
            effective_from DATE NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            UNIQUE (user_id, effective_from)
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE list_rates")
    op.execute("DROP TABLE people")
