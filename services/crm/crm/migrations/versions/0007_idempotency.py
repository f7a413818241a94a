"""Idempotency keys: an `Idempotency-Key` on POST is honoured by the service itself, not only by the gateway
(throughline_messaging.idempotency); each key's request hash and stored answer, purged after 24 hours.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from throughline_messaging.tables import create_idempotency_table_sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in create_idempotency_table_sql():
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE idempotency_keys")
