"""Invoices and reminders by mail: the ERP's mail outbox (the platform's table), each invoice's mails (its
sending history: queued, sent, failed, bounced), the editable mail templates, the link to the client's page on the
invoice, and a client's reminder pause (a dispute, or a promise to pay until a date).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from throughline_platform.mail.outbox import create_mail_outbox_sql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in create_mail_outbox_sql():
        op.execute(statement)
    op.execute("""
        CREATE TABLE invoice_mails (
            id UUID PRIMARY KEY,
            invoice_id UUID NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
            kind VARCHAR(20) NOT NULL CHECK (kind IN ('invoice', 'reminder')),
            reminder_id UUID REFERENCES reminders (id) ON DELETE SET NULL,
            message_id VARCHAR(255) NOT NULL,
            to_addresses VARCHAR(320)[] NOT NULL,
            subject TEXT NOT NULL,
            status VARCHAR(16) NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'bounced')),
            error TEXT,
            sent_by VARCHAR(64),
            finished_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_invoice_mails_message_id UNIQUE (message_id)
        )""")
    op.execute("CREATE INDEX ix_invoice_mails_invoice ON invoice_mails (invoice_id, created_at)")
    op.execute("""
        CREATE TABLE mail_templates (
            id UUID PRIMARY KEY,
            key VARCHAR(40) NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            updated_by VARCHAR(64),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_mail_templates_key UNIQUE (key)
        )""")
    op.execute("ALTER TABLE invoices ADD COLUMN public_url TEXT, ADD COLUMN sent_at TIMESTAMPTZ")
    # A reminder's mail waits in the outbox (queued) until the sender's outcome: sent, failed or bounced.
    op.execute("ALTER TABLE reminders DROP CONSTRAINT reminders_delivery_status_check, "
               "ADD CONSTRAINT reminders_delivery_status_check CHECK (delivery_status IN "
               "('pending', 'queued', 'sent', 'logged', 'failed', 'bounced'))")
    op.execute("""
        ALTER TABLE clients
            ADD COLUMN reminder_pause VARCHAR(10) CHECK (reminder_pause IN ('dispute', 'promise')),
            ADD COLUMN reminder_pause_until DATE,
            ADD COLUMN reminder_pause_note TEXT,
            ADD CONSTRAINT ck_clients_promise_until CHECK (reminder_pause <> 'promise'
                                                             OR reminder_pause_until IS NOT NULL)""")


def downgrade() -> None:
    op.execute("ALTER TABLE clients DROP CONSTRAINT ck_clients_promise_until, DROP COLUMN reminder_pause, "
               "DROP COLUMN reminder_pause_until, DROP COLUMN reminder_pause_note")
    op.execute("ALTER TABLE invoices DROP COLUMN public_url, DROP COLUMN sent_at")
    op.execute("UPDATE reminders SET delivery_status = 'sent' WHERE delivery_status = 'queued'")
    op.execute("UPDATE reminders SET delivery_status = 'failed' WHERE delivery_status = 'bounced'")
    op.execute("ALTER TABLE reminders DROP CONSTRAINT reminders_delivery_status_check, "
               "ADD CONSTRAINT reminders_delivery_status_check CHECK (delivery_status IN "
               "('pending', 'sent', 'logged', 'failed'))")
    op.execute("DROP TABLE mail_templates")
    op.execute("DROP TABLE invoice_mails")
    op.execute("DROP TABLE mail_outbox")
