"""The full CRM: duplicate flags, leads and assignment rules, activities, tasks, automation rules and their
firings, deal reopen/idle columns, and the indexes the lists, timelines and forecast need.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # --- companies and contacts: duplicate flags, email lookups, search ------------------------------
    op.execute("ALTER TABLE companies ADD COLUMN duplicate_of UUID REFERENCES companies (id)")
    op.execute("CREATE INDEX ix_companies_email ON companies (lower(email)) WHERE deleted_at IS NULL")
    op.execute("CREATE INDEX ix_companies_live_name ON companies (name, id) WHERE deleted_at IS NULL")
    op.execute("ALTER TABLE contacts ADD COLUMN duplicate_of UUID REFERENCES contacts (id)")
    op.execute("ALTER TABLE contacts ADD COLUMN owner_id VARCHAR(64)")
    op.execute("CREATE INDEX ix_contacts_live_name ON contacts (last_name, first_name, id) WHERE deleted_at IS NULL")

    # --- stages: removed stages are archived (history keeps pointing at them) ---------------------------
    op.execute("ALTER TABLE stages ADD COLUMN archived_at TIMESTAMPTZ")
    op.execute("CREATE UNIQUE INDEX uq_pipelines_one_default ON pipelines (is_default) WHERE is_default")

    # --- deals: activity tracking for idle flags, reopen -------------------------------------------
    op.execute("ALTER TABLE deals ADD COLUMN last_activity_at TIMESTAMPTZ")
    op.execute("ALTER TABLE deals ADD COLUMN reopened_at TIMESTAMPTZ")
    op.execute("CREATE INDEX ix_deals_open_activity ON deals (coalesce(last_activity_at, created_at)) "
               "WHERE status = 'open'")
    op.execute("CREATE INDEX ix_deals_contact_id ON deals (contact_id)")
    op.execute("CREATE INDEX ix_deals_stage_id ON deals (stage_id)")
    op.execute("CREATE INDEX ix_deals_open_close ON deals (expected_close_date, owner_id) WHERE status = 'open'")
    op.execute("CREATE INDEX ix_deal_stage_changes_from ON deal_stage_changes (from_stage_id)")
    op.execute("CREATE INDEX ix_deal_stage_changes_to ON deal_stage_changes (to_stage_id, deal_id)")

    # --- leads ------------------------------------------------------------------------------------
    op.execute("""
        CREATE TABLE leads (
            id UUID PRIMARY KEY,
            first_name VARCHAR(100) NOT NULL DEFAULT '',
            last_name VARCHAR(100) NOT NULL DEFAULT '',
            email VARCHAR(320),
            phone VARCHAR(50),
            title VARCHAR(100),
            company_name VARCHAR(200),
            company_domain VARCHAR(253),
            company_size INTEGER,
            message TEXT,
            source VARCHAR(30) NOT NULL,
            status VARCHAR(20) NOT NULL CHECK (status IN ('new', 'contacted', 'qualified', 'disqualified',
                                                          'converted')),
            owner_id VARCHAR(64),
            score INTEGER NOT NULL DEFAULT 0,
            score_reasons JSONB NOT NULL DEFAULT '[]',
            disqualified_reason TEXT,
            company_id UUID REFERENCES companies (id),
            contact_id UUID REFERENCES contacts (id),
            deal_id UUID REFERENCES deals (id),
            converted_at TIMESTAMPTZ,
            converted_by VARCHAR(64),
            created_by VARCHAR(64),
            deleted_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_leads_status_created ON leads (status, created_at DESC) WHERE deleted_at IS NULL")
    op.execute("CREATE INDEX ix_leads_owner ON leads (owner_id, status) WHERE deleted_at IS NULL")
    op.execute("CREATE INDEX ix_leads_email ON leads (lower(email)) WHERE deleted_at IS NULL")
    op.execute("""
        CREATE TABLE assignment_rules (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL,
            strategy VARCHAR(20) NOT NULL CHECK (strategy IN ('round_robin', 'by_source')),
            source VARCHAR(30),
            owner_ids JSONB NOT NULL,
            position INTEGER NOT NULL DEFAULT 100,
            next_index INTEGER NOT NULL DEFAULT 0,
            active BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")

    # --- activities -------------------------------------------------------------------------------
    op.execute("""
        CREATE TABLE activities (
            id UUID PRIMARY KEY,
            kind VARCHAR(10) NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
            subject VARCHAR(200) NOT NULL,
            body TEXT,
            direction VARCHAR(10) CHECK (direction IN ('inbound', 'outbound')),
            occurred_at TIMESTAMPTZ NOT NULL,
            company_id UUID REFERENCES companies (id),
            contact_id UUID REFERENCES contacts (id),
            deal_id UUID REFERENCES deals (id),
            lead_id UUID REFERENCES leads (id),
            created_by VARCHAR(64),
            automation_rule_id UUID,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CHECK (company_id IS NOT NULL OR contact_id IS NOT NULL OR deal_id IS NOT NULL OR lead_id IS NOT NULL)
        )""")
    op.execute("CREATE INDEX ix_activities_company ON activities (company_id, occurred_at DESC)")
    op.execute("CREATE INDEX ix_activities_contact ON activities (contact_id, occurred_at DESC)")
    op.execute("CREATE INDEX ix_activities_deal ON activities (deal_id, occurred_at DESC)")
    op.execute("CREATE INDEX ix_activities_lead ON activities (lead_id, occurred_at DESC)")

    # --- tasks ------------------------------------------------------------------------------------
    op.execute("""
        CREATE TABLE tasks (
            id UUID PRIMARY KEY,
            title VARCHAR(200) NOT NULL,
            description TEXT,
            due_at TIMESTAMPTZ NOT NULL,
            assignee_id VARCHAR(64) NOT NULL,
            status VARCHAR(10) NOT NULL CHECK (status IN ('open', 'done')),
            company_id UUID REFERENCES companies (id),
            contact_id UUID REFERENCES contacts (id),
            deal_id UUID REFERENCES deals (id),
            lead_id UUID REFERENCES leads (id),
            completed_at TIMESTAMPTZ,
            completed_by VARCHAR(64),
            created_by VARCHAR(64),
            automation_rule_id UUID,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_tasks_assignee_due ON tasks (assignee_id, status, due_at)")
    op.execute("CREATE INDEX ix_tasks_deal ON tasks (deal_id)")

    # --- automation -------------------------------------------------------------------------------
    op.execute("""
        CREATE TABLE automation_rules (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL,
            trigger VARCHAR(20) NOT NULL CHECK (trigger IN ('stage_entered', 'deal_idle', 'lead_created',
                                                            'deal_won')),
            stage_id UUID REFERENCES stages (id),
            idle_days INTEGER CHECK (idle_days IS NULL OR idle_days >= 1),
            actions JSONB NOT NULL,
            active BOOLEAN NOT NULL DEFAULT true,
            created_by VARCHAR(64),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    # The guarantee "never the same rule twice for the same record and day" lives in the database.
    op.execute("""
        CREATE TABLE automation_firings (
            id UUID PRIMARY KEY,
            rule_id UUID NOT NULL REFERENCES automation_rules (id),
            record_id UUID NOT NULL,
            fired_on DATE NOT NULL,
            fired_at TIMESTAMPTZ NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_automation_firings_rule_record_day UNIQUE (rule_id, record_id, fired_on)
        )""")
    op.execute("CREATE INDEX ix_automation_firings_record ON automation_firings (record_id)")


def downgrade() -> None:
    for table in ("automation_firings", "automation_rules", "tasks", "activities", "assignment_rules", "leads"):
        op.execute(f"DROP TABLE {table}")
    for index in ("ix_deal_stage_changes_to", "ix_deal_stage_changes_from", "ix_deals_open_close", "ix_deals_stage_id",
                  "ix_deals_contact_id", "ix_deals_open_activity", "ix_contacts_live_name", "ix_companies_live_name",
                  "ix_companies_email"):
        op.execute(f"DROP INDEX {index}")
    op.execute("DROP INDEX uq_pipelines_one_default")
    op.execute("ALTER TABLE stages DROP COLUMN archived_at")
    op.execute("ALTER TABLE deals DROP COLUMN reopened_at, DROP COLUMN last_activity_at")
    op.execute("ALTER TABLE contacts DROP COLUMN owner_id, DROP COLUMN duplicate_of")
    op.execute("ALTER TABLE companies DROP COLUMN duplicate_of")
