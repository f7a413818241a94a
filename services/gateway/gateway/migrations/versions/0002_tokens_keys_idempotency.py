"""Refresh tokens (rotation, revocation), API keys, idempotency records.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE refresh_tokens (
            id UUID PRIMARY KEY,
            user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            family_id UUID NOT NULL,
            issued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            expires_at TIMESTAMPTZ NOT NULL,
            used_at TIMESTAMPTZ,
            revoked_at TIMESTAMPTZ
        )""")
    op.execute("CREATE INDEX ix_refresh_tokens_user_id ON refresh_tokens (user_id)")
    op.execute("CREATE INDEX ix_refresh_tokens_family_id ON refresh_tokens (family_id)")
    op.execute("""
        CREATE TABLE api_keys (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL,
            role VARCHAR(20) NOT NULL CHECK (role IN ('admin', 'sales', 'finance', 'project_manager', 'viewer')),
            prefix VARCHAR(20) NOT NULL,
            key_hash VARCHAR(64) NOT NULL,
            created_by UUID,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            revoked_at TIMESTAMPTZ
        )""")
    op.execute("CREATE UNIQUE INDEX uq_api_keys_key_hash ON api_keys (key_hash)")
    op.execute("""
        CREATE TABLE idempotency_keys (
            principal VARCHAR(80) NOT NULL,
            key VARCHAR(200) NOT NULL,
            request_hash VARCHAR(64) NOT NULL,
            status INTEGER,
            content_type VARCHAR(200),
            body BYTEA,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            completed_at TIMESTAMPTZ,
            PRIMARY KEY (principal, key)
        )""")
    op.execute("CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at)")


def downgrade() -> None:
    op.execute("DROP TABLE idempotency_keys")
    op.execute("DROP TABLE api_keys")
    op.execute("DROP TABLE refresh_tokens")
