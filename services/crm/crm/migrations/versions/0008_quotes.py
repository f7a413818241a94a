"""Quotes (issue 25): the catalogue of services and rate cards, quotes on deals kept as numbered revisions, and
their lines.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE quote_catalogue_items (
            id UUID PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            description TEXT,
            kind VARCHAR(10) NOT NULL CHECK (kind IN ('fixed', 'hourly')),
            unit_price NUMERIC(18, 4) NOT NULL CHECK (unit_price >= 0),
            currency VARCHAR(3) NOT NULL,
            active BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_quote_catalogue_items_name UNIQUE (name)
        )""")
    op.execute("""
        CREATE TABLE quotes (
            id UUID PRIMARY KEY,
            deal_id UUID NOT NULL REFERENCES deals (id),
            revision INTEGER NOT NULL CHECK (revision >= 1),
            status VARCHAR(12) NOT NULL
                CHECK (status IN ('draft', 'sent', 'accepted', 'declined', 'superseded')),
            title VARCHAR(200) NOT NULL,
            currency VARCHAR(3) NOT NULL,
            discount_percent NUMERIC(7, 4) NOT NULL DEFAULT 0 CHECK (discount_percent >= 0 AND discount_percent <= 100),
            tax_rate_id UUID,
            tax_name VARCHAR(100),
            tax_percent NUMERIC(7, 4) NOT NULL DEFAULT 0 CHECK (tax_percent >= 0 AND tax_percent <= 100),
            valid_until DATE NOT NULL,
            billing_terms JSONB,
            notes TEXT,
            subtotal NUMERIC(18, 4) NOT NULL,
            discount_total NUMERIC(18, 4) NOT NULL,
            net_total NUMERIC(18, 4) NOT NULL,
            tax_total NUMERIC(18, 4) NOT NULL,
            total NUMERIC(18, 4) NOT NULL,
            created_by VARCHAR(64),
            sent_at TIMESTAMPTZ,
            sent_to VARCHAR(320),
            mail_id UUID,
            accepted_at TIMESTAMPTZ,
            accepted_name VARCHAR(200),
            accepted_ip VARCHAR(64),
            declined_at TIMESTAMPTZ,
            decline_reason TEXT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT uq_quotes_deal_revision UNIQUE (deal_id, revision)
        )""")
    op.execute("CREATE INDEX ix_quotes_deal_id ON quotes (deal_id)")
    # One accepted quote per deal, whatever races: the second acceptance fails here.
    op.execute("CREATE UNIQUE INDEX uq_quotes_one_accepted ON quotes (deal_id) WHERE status = 'accepted'")
    op.execute("""
        CREATE TABLE quote_lines (
            id UUID PRIMARY KEY,
            quote_id UUID NOT NULL REFERENCES quotes (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            catalogue_item_id UUID REFERENCES quote_catalogue_items (id),
            kind VARCHAR(10) NOT NULL CHECK (kind IN ('fixed', 'hourly')),
            description VARCHAR(500) NOT NULL,
            quantity NUMERIC(12, 2) NOT NULL CHECK (quantity > 0),
            unit VARCHAR(20) NOT NULL,
            unit_price NUMERIC(18, 4) NOT NULL CHECK (unit_price >= 0),
            amount NUMERIC(18, 4) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_quote_lines_quote_id ON quote_lines (quote_id)")


def downgrade() -> None:
    op.execute("DROP TABLE quote_lines")
    op.execute("DROP TABLE quotes")
    op.execute("DROP TABLE quote_catalogue_items")
