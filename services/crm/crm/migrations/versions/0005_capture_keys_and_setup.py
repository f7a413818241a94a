"""Lead capture keys (named, hashed, with their allowed origins, revocable) and the submissions they brought, so a
form posted twice makes one lead. The submission row is written before its lead (it is the lock a double post waits
on), so its reference to the lead is checked at commit.

Revision ID: 0005
"""

from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE capture_keys (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL,
            prefix VARCHAR(20) NOT NULL,
            key_hash VARCHAR(64) NOT NULL,
            allowed_origins JSONB NOT NULL DEFAULT '[]',
            thank_you_url VARCHAR(2000),
            created_by VARCHAR(64),
            revoked_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            CONSTRAINT uq_capture_keys_key_hash UNIQUE (key_hash)
        )""")
    op.execute("""
        CREATE TABLE capture_submissions (
            submission VARCHAR(200) PRIMARY KEY,
            lead_id UUID NOT NULL REFERENCES leads (id) DEFERRABLE INITIALLY DEFERRED,
            created_at TIMESTAMPTZ NOT NULL
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE capture_submissions")
    op.execute("DROP TABLE capture_keys")
