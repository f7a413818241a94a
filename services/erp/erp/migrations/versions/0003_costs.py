"""Costs: cost centers, expenses (categories, rules, receipts, history), cost/bill rates, capacity, contacts.

Revision ID: 0003
Revises: 0001
"""

from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE cost_centers (
            id UUID PRIMARY KEY,
            code VARCHAR(30) NOT NULL UNIQUE,
            name VARCHAR(200) NOT NULL,
            description TEXT,
            active BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("""ALTER TABLE projects ADD CONSTRAINT fk_projects_cost_center
                  FOREIGN KEY (cost_center_id) REFERENCES cost_centers (id)""")
    op.execute("CREATE INDEX ix_projects_cost_center_id ON projects (cost_center_id)")
    op.execute("ALTER TABLE projects ADD CONSTRAINT ck_projects_budget CHECK (budget_amount >= 0 "
               "AND (budget_hours IS NULL OR budget_hours >= 0))")

    op.execute("""
        CREATE TABLE expense_categories (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL UNIQUE,
            description TEXT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE expense_category_rules (
            id UUID PRIMARY KEY,
            category_id UUID NOT NULL REFERENCES expense_categories (id) ON DELETE CASCADE,
            field VARCHAR(20) NOT NULL CHECK (field IN ('merchant', 'description', 'any')),
            pattern VARCHAR(100) NOT NULL CHECK (length(pattern) > 0),
            priority INTEGER NOT NULL DEFAULT 100,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            UNIQUE (field, pattern)
        )""")
    op.execute("""
        CREATE TABLE expenses (
            id UUID PRIMARY KEY,
            submitted_by VARCHAR(64) NOT NULL,
            submitter_email VARCHAR(320),
            project_id UUID REFERENCES projects (id),
            cost_center_id UUID REFERENCES cost_centers (id),
            amount NUMERIC(18, 4) NOT NULL CHECK (amount > 0),
            currency VARCHAR(3) NOT NULL,
            expense_date DATE NOT NULL,
            merchant VARCHAR(200),
            description TEXT,
            category_id UUID REFERENCES expense_categories (id),
            category_source VARCHAR(10) CHECK (category_source IN ('manual', 'rule')),
            billable BOOLEAN NOT NULL DEFAULT false,
            status VARCHAR(20) NOT NULL
                CHECK (status IN ('draft', 'submitted', 'approved', 'rejected')),
            required_approval VARCHAR(20) CHECK (required_approval IN ('manager', 'finance')),
            submitted_at TIMESTAMPTZ,
            decided_at TIMESTAMPTZ,
            decided_by VARCHAR(64),
            billing_status VARCHAR(20) NOT NULL DEFAULT 'not_billable'
                CHECK (billing_status IN ('not_billable', 'unbilled', 'invoiced')),
            invoice_id UUID,
            invoiced_at TIMESTAMPTZ,
            reimbursed_at TIMESTAMPTZ,
            has_receipt BOOLEAN NOT NULL DEFAULT false,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CHECK (project_id IS NOT NULL OR cost_center_id IS NOT NULL),
            CHECK (NOT billable OR project_id IS NOT NULL)
        )""")
    op.execute("CREATE INDEX ix_expenses_status ON expenses (status, created_at DESC)")
    op.execute("CREATE INDEX ix_expenses_project_id ON expenses (project_id)")
    op.execute("CREATE INDEX ix_expenses_cost_center_id ON expenses (cost_center_id)")
    op.execute("CREATE INDEX ix_expenses_submitted_by ON expenses (submitted_by)")
    op.execute("CREATE INDEX ix_expenses_unbilled ON expenses (project_id) WHERE billing_status = 'unbilled'")
    op.execute("""
        CREATE TABLE expense_receipts (
            expense_id UUID PRIMARY KEY REFERENCES expenses (id) ON DELETE CASCADE,
            filename VARCHAR(255) NOT NULL,
            content_type VARCHAR(100) NOT NULL,
            size_bytes INTEGER NOT NULL,
            sha256 VARCHAR(64) NOT NULL,
            data BYTEA NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE expense_history (
            id UUID PRIMARY KEY,
            expense_id UUID NOT NULL REFERENCES expenses (id) ON DELETE CASCADE,
            action VARCHAR(30) NOT NULL,
            from_status VARCHAR(20),
            to_status VARCHAR(20) NOT NULL,
            actor_id VARCHAR(64) NOT NULL,
            actor_role VARCHAR(30) NOT NULL,
            comment TEXT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_expense_history_expense ON expense_history (expense_id, created_at)")

    op.execute("""
        CREATE TABLE cost_rates (
            id UUID PRIMARY KEY,
            user_id VARCHAR(64) NOT NULL,
            hourly_cost NUMERIC(18, 4) NOT NULL CHECK (hourly_cost >= 0),
            currency VARCHAR(3) NOT NULL,
            effective_from DATE NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            UNIQUE (user_id, effective_from)
        )""")
    op.execute("""
        CREATE TABLE bill_rates (
            id UUID PRIMARY KEY,
            project_id UUID NOT NULL REFERENCES projects (id),
            hourly_rate NUMERIC(18, 4) NOT NULL CHECK (hourly_rate >= 0),
            effective_from DATE NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            UNIQUE (project_id, effective_from)
        )""")
    op.execute("""
        CREATE TABLE capacities (
            id UUID PRIMARY KEY,
            user_id VARCHAR(64) NOT NULL,
            hours_per_week NUMERIC(6, 2) NOT NULL CHECK (hours_per_week >= 0 AND hours_per_week <= 168),
            effective_from DATE NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            UNIQUE (user_id, effective_from)
        )""")

    op.execute("""
        CREATE TABLE client_contacts (
            id UUID PRIMARY KEY,
            crm_contact_id UUID NOT NULL UNIQUE,
            crm_company_id UUID,
            name VARCHAR(300) NOT NULL,
            email VARCHAR(320),
            phone VARCHAR(50),
            crm_version INTEGER NOT NULL DEFAULT 0,
            crm_deleted BOOLEAN NOT NULL DEFAULT false,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_client_contacts_company ON client_contacts (crm_company_id)")

    # A starting set of categories and rules; finance edits them through the API.
    op.execute("""
        INSERT INTO expense_categories (id, name, description) VALUES
          ('00000000-0000-4000-8000-000000000001', 'Travel', 'Flights, trains, taxis, car hire, fuel, parking'),
          ('00000000-0000-4000-8000-000000000002', 'Lodging', 'Hotels and short stays'),
          ('00000000-0000-4000-8000-000000000003', 'Meals', 'Restaurants, cafes, client meals'),
          ('00000000-0000-4000-8000-000000000004', 'Software', 'Subscriptions, licences, cloud services'),
          ('00000000-0000-4000-8000-000000000005', 'Equipment', 'Hardware and office equipment'),
          ('00000000-0000-4000-8000-000000000006', 'Other', 'Anything else')""")
    rules = {
        "1": ["uber", "lyft", "taxi", "airline", "airways", "rail", "train", "parking", "fuel"],
        "2": ["hotel", "airbnb", "hostel", "motel"],
        "3": ["restaurant", "cafe", "coffee", "bistro", "pizza", "lunch", "dinner"],
        "4": ["github", "aws", "google cloud", "adobe", "atlassian", "figma", "slack", "subscription"],
        "5": ["apple store", "laptop", "monitor", "keyboard"],
    }
    values = ", ".join(
        f"(gen_random_uuid(), '00000000-0000-4000-8000-00000000000{cat}', 'any', '{pattern}', 100)"
        for cat, patterns in rules.items() for pattern in patterns)
    op.execute(f"INSERT INTO expense_category_rules (id, category_id, field, pattern, priority) VALUES {values}")


def downgrade() -> None:
    for table in ("client_contacts", "capacities", "bill_rates", "cost_rates", "expense_history",
                  "expense_receipts", "expenses", "expense_category_rules", "expense_categories"):
        op.execute(f"DROP TABLE {table}")
    op.execute("ALTER TABLE projects DROP CONSTRAINT ck_projects_budget")
    op.execute("DROP INDEX ix_projects_cost_center_id")
    op.execute("ALTER TABLE projects DROP CONSTRAINT fk_projects_cost_center")
    op.execute("DROP TABLE cost_centers")
