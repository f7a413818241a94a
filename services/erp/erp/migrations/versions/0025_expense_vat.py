"""Input VAT on expenses (issue 26, decision 215): an expense may name a tax rate; its percent, category and the tax
in its gross amount are copied onto it when it is saved, so that approval posts the net to the expense account and
the tax to input VAT, and the VAT report shows it. `amount` stays the gross paid (what is reimbursed).

Existing expenses have no rate and no tax: net = gross, as they were booked.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE expenses
            ADD COLUMN tax_rate_id UUID REFERENCES tax_rates (id),
            ADD COLUMN tax_percent NUMERIC(7, 4),
            ADD COLUMN tax_category VARCHAR(20),
            ADD COLUMN tax_amount NUMERIC(18, 4) NOT NULL DEFAULT 0,
            ADD CONSTRAINT ck_expenses_tax_amount CHECK (tax_amount >= 0 AND tax_amount < amount),
            -- No rate, no tax: the snapshot exists exactly when a rate is named.
            ADD CONSTRAINT ck_expenses_tax_snapshot CHECK (
                (tax_rate_id IS NULL AND tax_percent IS NULL AND tax_category IS NULL AND tax_amount = 0)
                OR (tax_rate_id IS NOT NULL AND tax_percent IS NOT NULL AND tax_category IS NOT NULL)),
            -- Receipts are domestic purchases: reverse charge goes through vendor bills.
            ADD CONSTRAINT ck_expenses_tax_category CHECK (
                tax_category IS NULL OR tax_category IN ('standard', 'reduced', 'zero', 'exempt'))
    """)


def downgrade() -> None:
    op.execute("""
        ALTER TABLE expenses
            DROP CONSTRAINT ck_expenses_tax_category,
            DROP CONSTRAINT ck_expenses_tax_snapshot,
            DROP CONSTRAINT ck_expenses_tax_amount,
            DROP COLUMN tax_amount,
            DROP COLUMN tax_category,
            DROP COLUMN tax_percent,
            DROP COLUMN tax_rate_id
    """)
