"""Saved views (issue 24): a person's named filters of one list, unique by name per person and list.

Revision ID: 0004
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE saved_views (
            id UUID PRIMARY KEY,
            owner_id VARCHAR(64) NOT NULL,
            list VARCHAR(30) NOT NULL,
            name VARCHAR(100) NOT NULL,
            filters JSONB NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE UNIQUE INDEX uq_saved_views_owner_list_name ON saved_views (owner_id, list, name)")


def downgrade() -> None:
    op.execute("DROP TABLE saved_views")
