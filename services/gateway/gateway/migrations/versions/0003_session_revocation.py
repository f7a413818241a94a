"""When a user's sessions were last ended (access tokens issued before it are refused at the gateway), and whether
the user must choose a new password (the configured first admin whose password fails the policy).

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN sessions_revoked_at TIMESTAMPTZ")
    op.execute("ALTER TABLE users ADD COLUMN password_change_required BOOLEAN NOT NULL DEFAULT false")
    # The gateway reads the recent revocations every few seconds (gateway/sessions.py).
    op.execute("CREATE INDEX ix_users_sessions_revoked_at ON users (sessions_revoked_at) "
               "WHERE sessions_revoked_at IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX ix_users_sessions_revoked_at")
    op.execute("ALTER TABLE users DROP COLUMN password_change_required")
    op.execute("ALTER TABLE users DROP COLUMN sessions_revoked_at")
