"""Timesheets (issue 23): a person's week and its approval (submitted and approved weeks are locked), the running
timer (one per person: the person is the key), and correction entries: an entry may now correct another (an
entry that is billed or in a locked week is never changed; a correction with negative or extra hours is logged
instead), so hours may be negative on a correction only.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE timesheet_weeks (
            id UUID PRIMARY KEY,
            person_id VARCHAR(64) NOT NULL,
            week_start DATE NOT NULL CHECK (extract(isodow FROM week_start) = 1),
            status VARCHAR(20) NOT NULL CHECK (status IN ('open', 'submitted', 'approved', 'returned')),
            submitted_at TIMESTAMPTZ,
            submitted_by VARCHAR(64),
            decided_at TIMESTAMPTZ,
            decided_by VARCHAR(64),
            comment TEXT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_timesheet_weeks_person_week UNIQUE (person_id, week_start)
        )""")
    # The approvals page lists the submitted weeks.
    op.execute("CREATE INDEX ix_timesheet_weeks_submitted ON timesheet_weeks (submitted_at) "
               "WHERE status = 'submitted'")
    op.execute("""
        CREATE TABLE running_timers (
            person_id VARCHAR(64) PRIMARY KEY,
            project_id UUID NOT NULL REFERENCES projects (id),
            billable BOOLEAN NOT NULL,
            note TEXT,
            started_at TIMESTAMPTZ NOT NULL
        )""")
    op.execute("ALTER TABLE time_entries ADD COLUMN corrects_id UUID REFERENCES time_entries (id)")
    op.execute("CREATE INDEX ix_time_entries_corrects ON time_entries (corrects_id) WHERE corrects_id IS NOT NULL")
    op.execute("ALTER TABLE time_entries DROP CONSTRAINT time_entries_hours_check, ADD CONSTRAINT time_entries_hours_check "
               "CHECK (hours <> 0 AND hours <= 24 AND (hours > 0 OR (corrects_id IS NOT NULL AND hours >= -24)))")


def downgrade() -> None:
    op.execute("DELETE FROM time_entries WHERE corrects_id IS NOT NULL")
    op.execute("ALTER TABLE time_entries DROP CONSTRAINT time_entries_hours_check, ADD CONSTRAINT time_entries_hours_check "
               "CHECK (hours > 0 AND hours <= 24)")
    op.execute("DROP INDEX ix_time_entries_corrects")
    op.execute("ALTER TABLE time_entries DROP COLUMN corrects_id")
    op.execute("DROP TABLE running_timers")
    op.execute("DROP TABLE timesheet_weeks")
