"""Join the billing (0002) and costs (0003) branches, written in parallel from 0001, into one head.

Revision ID: 0004
"""

revision = "0004"
down_revision = ("0002", "0003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
