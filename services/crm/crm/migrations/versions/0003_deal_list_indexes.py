"""An index for the open-deals-by-amount list (status, amount DESC, id): at 100,000 deals that list sorted every
open deal on each request; with the index it reads one page of entries.

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_deals_status_amount ON deals (status, amount DESC, id)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_deals_status_amount")
