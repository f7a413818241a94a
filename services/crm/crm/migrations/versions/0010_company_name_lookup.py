"""Companies looked up by name, case-insensitively: a CSV import links each contact row's "Company Name" to the
company of that name (crm/csvio), one lookup per row.

Revision ID: 0010
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_companies_lower_name ON companies (lower(name)) WHERE deleted_at IS NULL")


def downgrade() -> None:
    op.execute("DROP INDEX ix_companies_lower_name")
