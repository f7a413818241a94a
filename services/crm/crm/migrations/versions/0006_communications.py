"""Sales that talks to clients (issue 25, mail): the mail outbox (docs/mail.md), mail templates, every mail sent or
received, consent per address, senders' names, sequences with their steps, enrolments, step runs and daily counts,
and the company's country and time zone and the contact's time zone (business days, send windows).

Revision ID: 0006
"""

from alembic import op

from throughline_platform.mail.outbox import create_mail_outbox_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in create_mail_outbox_sql():
        op.execute(statement)

    op.execute("ALTER TABLE companies ADD COLUMN country VARCHAR(2)")
    op.execute("ALTER TABLE companies ADD COLUMN time_zone VARCHAR(64)")
    op.execute("ALTER TABLE contacts ADD COLUMN time_zone VARCHAR(64)")

    op.execute("""
        CREATE TABLE mail_templates (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL,
            subject TEXT NOT NULL,
            text_body TEXT NOT NULL,
            html_body TEXT,
            version INTEGER NOT NULL DEFAULT 1,
            created_by VARCHAR(64),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_mail_templates_name UNIQUE (name)
        )""")
    op.execute("""
        CREATE TABLE crm_mails (
            id UUID PRIMARY KEY,
            direction VARCHAR(10) NOT NULL CHECK (direction IN ('outbound', 'inbound')),
            status VARCHAR(10) NOT NULL CHECK (status IN ('queued', 'sent', 'bounced', 'failed', 'received')),
            message_id VARCHAR(255) NOT NULL,
            in_reply_to VARCHAR(255),
            reference_ids TEXT,
            reply_to_mail_id UUID,
            subject TEXT NOT NULL,
            from_address VARCHAR(320) NOT NULL,
            to_addresses VARCHAR(320)[] NOT NULL,
            text_body TEXT,
            html_body TEXT,
            attachments JSONB NOT NULL DEFAULT '[]',
            contact_id UUID,
            company_id UUID,
            deal_id UUID,
            lead_id UUID,
            template_id UUID,
            enrolment_id UUID,
            sequence_id UUID,
            step_position INTEGER,
            sent_by VARCHAR(64),
            error TEXT,
            correlation_id VARCHAR(128),
            occurred_at TIMESTAMPTZ NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_crm_mails_direction_message_id UNIQUE (direction, message_id)
        )""")
    op.execute("CREATE INDEX ix_crm_mails_contact ON crm_mails (contact_id, occurred_at)")
    op.execute("CREATE INDEX ix_crm_mails_company ON crm_mails (company_id, occurred_at)")
    op.execute("CREATE INDEX ix_crm_mails_deal ON crm_mails (deal_id, occurred_at)")
    op.execute("CREATE INDEX ix_crm_mails_lead ON crm_mails (lead_id, occurred_at) WHERE lead_id IS NOT NULL")
    op.execute("CREATE INDEX ix_crm_mails_unmatched ON crm_mails (occurred_at) "
               "WHERE direction = 'inbound' AND contact_id IS NULL AND lead_id IS NULL")
    op.execute("""
        CREATE TABLE mail_consents (
            email VARCHAR(320) PRIMARY KEY,
            status VARCHAR(10) NOT NULL CHECK (status IN ('given', 'withdrawn')),
            source VARCHAR(200) NOT NULL,
            changed_at TIMESTAMPTZ NOT NULL,
            changed_by VARCHAR(64),
            mail_id UUID
        )""")
    op.execute("""
        CREATE TABLE mail_senders (
            user_id VARCHAR(64) PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            email VARCHAR(320) NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        )""")

    op.execute("""
        CREATE TABLE sequences (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL,
            description TEXT,
            active BOOLEAN NOT NULL DEFAULT true,
            window_start_hour INTEGER NOT NULL DEFAULT 9 CHECK (window_start_hour BETWEEN 0 AND 23),
            window_end_hour INTEGER NOT NULL DEFAULT 17 CHECK (window_end_hour BETWEEN 1 AND 24),
            business_days_only BOOLEAN NOT NULL DEFAULT true,
            created_by VARCHAR(64),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_sequences_name UNIQUE (name),
            CONSTRAINT ck_sequences_window CHECK (window_start_hour < window_end_hour)
        )""")
    op.execute("""
        CREATE TABLE sequence_steps (
            id UUID PRIMARY KEY,
            sequence_id UUID NOT NULL REFERENCES sequences (id) ON DELETE CASCADE,
            position INTEGER NOT NULL CHECK (position >= 1),
            kind VARCHAR(10) NOT NULL CHECK (kind IN ('email', 'task')),
            delay_days INTEGER NOT NULL DEFAULT 0 CHECK (delay_days BETWEEN 0 AND 365),
            template_id UUID REFERENCES mail_templates (id),
            task_title VARCHAR(200),
            task_due_in_hours INTEGER,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_sequence_steps_position UNIQUE (sequence_id, position),
            CONSTRAINT ck_sequence_steps_kind CHECK ((kind = 'email') = (template_id IS NOT NULL)
                                                     AND (kind = 'task') = (task_title IS NOT NULL))
        )""")
    op.execute("""
        CREATE TABLE sequence_enrolments (
            id UUID PRIMARY KEY,
            sequence_id UUID NOT NULL REFERENCES sequences (id),
            contact_id UUID REFERENCES contacts (id),
            lead_id UUID REFERENCES leads (id),
            deal_id UUID REFERENCES deals (id),
            email VARCHAR(320) NOT NULL,
            owner_id VARCHAR(64) NOT NULL,
            status VARCHAR(10) NOT NULL CHECK (status IN ('active', 'completed', 'stopped')),
            stop_reason VARCHAR(20),
            next_position INTEGER NOT NULL DEFAULT 1,
            next_due_at TIMESTAMPTZ,
            waiting_reason VARCHAR(200),
            enrolled_by VARCHAR(64),
            enrolled_via VARCHAR(20) NOT NULL DEFAULT 'hand',
            finished_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT ck_sequence_enrolments_one_person CHECK ((contact_id IS NULL) <> (lead_id IS NULL))
        )""")
    op.execute("CREATE INDEX ix_sequence_enrolments_due ON sequence_enrolments (next_due_at) WHERE status = 'active'")
    op.execute("CREATE UNIQUE INDEX uq_sequence_enrolments_active_contact ON sequence_enrolments "
               "(sequence_id, contact_id) WHERE status = 'active' AND contact_id IS NOT NULL")
    op.execute("CREATE UNIQUE INDEX uq_sequence_enrolments_active_lead ON sequence_enrolments "
               "(sequence_id, lead_id) WHERE status = 'active' AND lead_id IS NOT NULL")
    op.execute("CREATE INDEX ix_sequence_enrolments_contact ON sequence_enrolments (contact_id)")
    op.execute("CREATE INDEX ix_sequence_enrolments_lead ON sequence_enrolments (lead_id) WHERE lead_id IS NOT NULL")
    op.execute("CREATE INDEX ix_sequence_enrolments_sequence ON sequence_enrolments (sequence_id, created_at)")
    op.execute("CREATE INDEX ix_sequence_enrolments_email ON sequence_enrolments (lower(email)) "
               "WHERE status = 'active'")
    op.execute("CREATE INDEX ix_sequence_enrolments_active_deal ON sequence_enrolments (deal_id) "
               "WHERE status = 'active' AND deal_id IS NOT NULL")
    op.execute("""
        CREATE TABLE sequence_step_runs (
            id UUID PRIMARY KEY,
            enrolment_id UUID NOT NULL REFERENCES sequence_enrolments (id),
            position INTEGER NOT NULL,
            step_id UUID,
            kind VARCHAR(10) NOT NULL,
            outcome VARCHAR(20) NOT NULL CHECK (outcome IN ('mail_staged', 'task_created', 'skipped')),
            mail_id UUID,
            task_id UUID,
            error TEXT,
            ran_at TIMESTAMPTZ NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_sequence_step_runs_enrolment_position UNIQUE (enrolment_id, position)
        )""")
    op.execute("""
        CREATE TABLE sequence_send_counts (
            sender_id VARCHAR(64) NOT NULL,
            day DATE NOT NULL,
            sent INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (sender_id, day)
        )""")


def downgrade() -> None:
    for table in ("sequence_send_counts", "sequence_step_runs", "sequence_enrolments", "sequence_steps", "sequences",
                  "mail_senders", "mail_consents", "crm_mails", "mail_templates", "mail_outbox"):
        op.execute(f"DROP TABLE {table}")
    op.execute("ALTER TABLE contacts DROP COLUMN time_zone")
    op.execute("ALTER TABLE companies DROP COLUMN time_zone")
    op.execute("ALTER TABLE companies DROP COLUMN country")
