"""Budgets (issue 23): each project's alert thresholds, the thresholds it has reached, and an index that lets the
budget figures of one project be summed from its time entries without reading the rows themselves.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per project whose thresholds differ from the default (50/80/100 %): a project without a row uses the
    # default, so projects made before this migration, or by the won-deal intake, need nothing written.
    op.execute("""
        CREATE TABLE project_budget_settings (
            project_id UUID PRIMARY KEY REFERENCES projects (id),
            thresholds INTEGER[] NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            CHECK (cardinality(thresholds) BETWEEN 1 AND 10)
        )""")
    # A threshold reached, for the budget it was reached against: unique per (project, measure, threshold,
    # budget), so each threshold fires once per budget, and again only once the budget changes and the new
    # budget's threshold is crossed (docs/decisions.md, 132).
    op.execute("""
        CREATE TABLE project_budget_alerts (
            id UUID PRIMARY KEY,
            project_id UUID NOT NULL REFERENCES projects (id),
            measure VARCHAR(10) NOT NULL CHECK (measure IN ('hours', 'money')),
            threshold INTEGER NOT NULL,
            budget NUMERIC(18, 4) NOT NULL,
            actual NUMERIC(18, 4) NOT NULL,
            reached_at TIMESTAMPTZ NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            UNIQUE (project_id, measure, threshold, budget)
        )""")
    op.execute("CREATE INDEX ix_project_budget_alerts_reached ON project_budget_alerts (project_id, reached_at)")
    # The budget figures sum a project's hours per day by billable, approval and billing state (a day's unbilled
    # hours are priced at that day's bill rate): with these columns in the index, PostgreSQL answers from the index
    # alone, in day order (bench scenario `budget`: a project of 20,000 entries among 2,000,000; reading the
    # unbilled entries from the table took 24 ms of the 35).
    op.execute("CREATE INDEX ix_time_entries_project_budget ON time_entries (project_id, work_date) "
               "INCLUDE (hours, billable, status, invoice_id, beyond_cap)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_time_entries_project_budget")
    op.execute("DROP TABLE project_budget_alerts")
    op.execute("DROP TABLE project_budget_settings")
