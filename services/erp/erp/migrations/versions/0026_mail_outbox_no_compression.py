"""The mail outbox's messages are stored as they are, without compression (`STORAGE EXTERNAL`).

A staged message is mostly a base64 PDF (70 kB for an invoice), which pglz cannot shrink: PostgreSQL still tried on
every INSERT and gave up, about 1.1 ms of the database's CPU per mail (of ~5 ms per invoice sent; measured on the
2-CPU development machine: 1.7 ms an INSERT of a 69 kB message with the default storage, 0.55 ms without
compression, the same bytes stored). Out of line it stays (TOAST); only the compression attempt goes. Changes no
row (no table rewrite): existing messages stay as they were stored, new ones are kept uncompressed.

Revision ID: 0026
Revises: 0025
"""

from alembic import op

from throughline_platform.mail.outbox import MAIL_OUTBOX_DEFAULT_STORAGE_SQL, MAIL_OUTBOX_STORAGE_SQL

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(MAIL_OUTBOX_STORAGE_SQL)


def downgrade() -> None:
    op.execute(MAIL_OUTBOX_DEFAULT_STORAGE_SQL)
