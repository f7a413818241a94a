"""The open deals' billing terms in the ERP's pipeline replica (issue 26: the cash forecast plans an open deal with
the terms sales set on it; deal.created and deal.updated carry them).

Revision ID: 0024
Revises: 0023
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE pipeline_deals ADD COLUMN billing_terms JSONB")


def downgrade() -> None:
    op.execute("ALTER TABLE pipeline_deals DROP COLUMN billing_terms")
