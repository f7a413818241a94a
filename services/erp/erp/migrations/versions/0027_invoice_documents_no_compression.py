"""A kept invoice PDF is stored as it is, without compression (`STORAGE EXTERNAL`), as the mail outbox's messages
are (0026).

A PDF's streams are already deflated: pglz cannot shrink the 33 kB of an invoice, but PostgreSQL tried on every
INSERT and gave up, about 0.4 ms of the database's CPU per document rendered (measured on the 2-CPU development
machine: 0.66 ms an INSERT of a 33 kB invoice PDF with the default storage, 0.22 ms without compression, the same
bytes stored). The e-invoice XML beside it is text and compresses: it keeps the default. Changes no row.

Revision ID: 0027
Revises: 0026
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE invoice_documents ALTER COLUMN pdf SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("ALTER TABLE invoice_documents ALTER COLUMN pdf SET STORAGE EXTENDED")
