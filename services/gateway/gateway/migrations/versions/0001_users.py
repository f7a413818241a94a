"""Users.

Revision ID: 0001
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE users (
            id UUID PRIMARY KEY,
            email VARCHAR(320) NOT NULL,
            password_hash VARCHAR(200) NOT NULL,
            full_name VARCHAR(200) NOT NULL DEFAULT '',
            role VARCHAR(20) NOT NULL CHECK (role IN ('admin', 'sales', 'finance', 'project_manager', 'viewer')),
            active BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE UNIQUE INDEX uq_users_email ON users (lower(email))")


def downgrade() -> None:
    op.execute("DROP TABLE users")
