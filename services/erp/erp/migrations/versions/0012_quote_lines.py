"""A project's budget lines (issue 25): the lines of the quote its deal was won on (deal.won's optional `lines`).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE project_budget_lines (
            id UUID PRIMARY KEY,
            project_id UUID NOT NULL REFERENCES projects (id),
            position INTEGER NOT NULL,
            description VARCHAR(500) NOT NULL,
            quantity NUMERIC(12, 2) NOT NULL,
            unit VARCHAR(20) NOT NULL,
            unit_price NUMERIC(18, 4) NOT NULL,
            amount NUMERIC(18, 4) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_project_budget_lines_position UNIQUE (project_id, position)
        )""")
    op.execute("CREATE INDEX ix_project_budget_lines_project_id ON project_budget_lines (project_id)")


def downgrade() -> None:
    op.execute("DROP TABLE project_budget_lines")
