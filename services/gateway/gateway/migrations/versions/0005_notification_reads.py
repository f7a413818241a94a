"""The notifications a user has marked read (the bell in the web app): one row per user and notification key.

Revision ID: 0005
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE notification_reads (
            user_id VARCHAR(64) NOT NULL,
            key VARCHAR(300) NOT NULL,
            read_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT pk_notification_reads PRIMARY KEY (user_id, key)
        )""")
    # Read marks of notifications long gone are pruned by age (gateway/notifications/service.py).
    op.execute("CREATE INDEX ix_notification_reads_read_at ON notification_reads (read_at)")


def downgrade() -> None:
    op.execute("DROP TABLE notification_reads")
