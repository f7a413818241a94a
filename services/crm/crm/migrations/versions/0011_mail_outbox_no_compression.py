"""The CRM's mail outbox stores its messages without compression (`STORAGE EXTERNAL`), as the ERP's does since its
0026: a quote's mail is mostly a base64 PDF, which pglz cannot shrink but tried to on every INSERT (about 1.1 ms of
the database's CPU for a 70 kB message). Changes no row.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from throughline_platform.mail.outbox import MAIL_OUTBOX_DEFAULT_STORAGE_SQL, MAIL_OUTBOX_STORAGE_SQL

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(MAIL_OUTBOX_STORAGE_SQL)


def downgrade() -> None:
    op.execute(MAIL_OUTBOX_DEFAULT_STORAGE_SQL)
