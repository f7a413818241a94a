"""Invoices a client can receive: the company profile (the seller), tax rates as data, tax per line, the seller
and bill-to snapshots taken at issue, and the stored documents (PDF with its Factur-X XML) of issued invoices.

- `company_profile`: one row (key = 1), written by PUT /api/erp/settings/company; `company_logos` keeps every
  logo ever uploaded by its SHA-256, never changed, so an issued invoice's snapshot can name its logo.
- `tax_rates`: seeded with the three rates every country has (zero, exempt, reverse charge); the standard rate of
  the company's country is added when the profile first names the country (erp.taxes.service.seed_country).
- `invoice_lines`: the rate a line names (`tax_rate_id`), and its category and legal note as they were when the
  line was written (the percent was already there: `tax_rate`). Existing lines: 'standard' above 0 %, else 'zero'.
- `invoices`: `seller` and `bill_to` (JSONB snapshots taken at issue), `document_revision` (goes up when an issued
  invoice's lines change after issue: a reminder's late fee). Existing issued invoices get their bill-to from
  the client as it is now (the best there is); their seller stays unknown (there was no profile).
- `invoice_documents`: an issued invoice's rendered PDF per revision, written once by whoever renders it first,
  never updated (a trigger refuses UPDATE).
- `clients`: `country` and `default_tax_rate_id` (ERP-only billing fields); new clients take the company's default
  payment terms (the column default reads the profile: the replica's inserts leave the column out).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_CATEGORIES = "('standard', 'reduced', 'zero', 'exempt', 'reverse_charge')"


def upgrade() -> None:
    op.execute("""
        CREATE TABLE company_logos (
            sha256 VARCHAR(64) PRIMARY KEY,
            media_type VARCHAR(50) NOT NULL CHECK (media_type IN ('image/png', 'image/jpeg')),
            data BYTEA NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute(f"""
        CREATE TABLE company_profile (
            key SMALLINT PRIMARY KEY DEFAULT 1 CHECK (key = 1),
            legal_name VARCHAR(200) NOT NULL,
            address_lines JSONB NOT NULL DEFAULT '[]',
            postal_code VARCHAR(20),
            city VARCHAR(100),
            country VARCHAR(2) NOT NULL,
            vat_id VARCHAR(20),
            registration_number VARCHAR(100),
            email VARCHAR(320),
            phone VARCHAR(50),
            website VARCHAR(200),
            bank_accounts JSONB NOT NULL DEFAULT '[]',
            logo_sha256 VARCHAR(64) REFERENCES company_logos (sha256),
            invoice_footer TEXT,
            payment_terms_days INTEGER NOT NULL DEFAULT 30 CHECK (payment_terms_days BETWEEN 0 AND 365),
            base_currency VARCHAR(3) NOT NULL,
            invoice_language VARCHAR(5) NOT NULL DEFAULT 'en' CHECK (invoice_language IN {('en', 'de', 'fr')}),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute(f"""
        CREATE TABLE tax_rates (
            id UUID PRIMARY KEY,
            name VARCHAR(100) NOT NULL,
            category VARCHAR(20) NOT NULL CHECK (category IN {_CATEGORIES}),
            percent NUMERIC(7, 4) NOT NULL CHECK (percent >= 0 AND percent <= 100),
            legal_note TEXT,
            is_default BOOLEAN NOT NULL DEFAULT false,
            active BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CHECK ((category IN ('standard', 'reduced')) = (percent > 0)),
            CHECK (category NOT IN ('exempt', 'reverse_charge') OR legal_note IS NOT NULL),
            CHECK (active OR NOT is_default)
        )""")
    op.execute("CREATE UNIQUE INDEX uq_tax_rates_name ON tax_rates (lower(name))")
    op.execute("CREATE UNIQUE INDEX uq_tax_rates_default ON tax_rates (is_default) WHERE is_default")
    op.execute("""
        INSERT INTO tax_rates (id, name, category, percent, legal_note) VALUES
        (gen_random_uuid(), 'Zero rate', 'zero', 0, NULL),
        (gen_random_uuid(), 'Exempt', 'exempt', 0,
         'Exempt from VAT. (Name the legal basis of the exemption here.)'),
        (gen_random_uuid(), 'Reverse charge', 'reverse_charge', 0,
         'Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC).')
    """)

    op.execute("ALTER TABLE clients ADD COLUMN country VARCHAR(2)")
    op.execute("ALTER TABLE clients ADD COLUMN default_tax_rate_id UUID REFERENCES tax_rates (id)")
    # New clients take the company's default payment terms: the replica's inserts leave the column out.
    op.execute("""
        CREATE FUNCTION company_payment_terms_days() RETURNS integer LANGUAGE sql STABLE AS
        $$ SELECT coalesce((SELECT payment_terms_days FROM company_profile WHERE key = 1), 30) $$""")
    op.execute("ALTER TABLE clients ALTER COLUMN payment_terms_days SET DEFAULT company_payment_terms_days()")

    op.execute("ALTER TABLE invoice_lines ADD COLUMN tax_rate_id UUID REFERENCES tax_rates (id)")
    op.execute(f"ALTER TABLE invoice_lines ADD COLUMN tax_category VARCHAR(20) NOT NULL DEFAULT 'standard' "
               f"CHECK (tax_category IN {_CATEGORIES})")
    op.execute("ALTER TABLE invoice_lines ADD COLUMN tax_note TEXT")
    op.execute("UPDATE invoice_lines SET tax_category = 'zero' WHERE tax_rate = 0")

    op.execute("ALTER TABLE invoices ADD COLUMN seller JSONB")
    op.execute("ALTER TABLE invoices ADD COLUMN bill_to JSONB")
    op.execute("ALTER TABLE invoices ADD COLUMN document_revision INTEGER NOT NULL DEFAULT 1 "
               "CHECK (document_revision >= 1)")
    op.execute("""
        UPDATE invoices i SET bill_to = jsonb_build_object(
            'name', c.name,
            'address_lines', to_jsonb(array_remove(regexp_split_to_array(
                btrim(coalesce(nullif(btrim(coalesce(c.billing_address, '')), ''), c.address, '')),
                '\\s*\\n\\s*'), '')),
            'country', NULL, 'vat_id', c.tax_id)
        FROM clients c WHERE c.id = i.client_id AND i.status <> 'draft'""")

    # The scheduler's document job looks at recently issued invoices only.
    op.execute("CREATE INDEX ix_invoices_issued_at ON invoices (issued_at) WHERE issued_at IS NOT NULL")
    op.execute("""
        CREATE TABLE invoice_documents (
            invoice_id UUID NOT NULL REFERENCES invoices (id),
            revision INTEGER NOT NULL,
            media_type VARCHAR(50) NOT NULL DEFAULT 'application/pdf',
            pdf BYTEA NOT NULL,
            e_invoice_xml BYTEA,
            sha256 VARCHAR(64) NOT NULL,
            render_ms INTEGER NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (invoice_id, revision)
        )""")
    # Issued documents never change: a stored document may be read, never rewritten.
    op.execute("""
        CREATE FUNCTION refuse_document_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'invoice_documents rows are never updated (invoice %, revision %)',
                OLD.invoice_id, OLD.revision;
        END $$""")
    op.execute("CREATE TRIGGER invoice_documents_never_updated BEFORE UPDATE ON invoice_documents "
               "FOR EACH ROW EXECUTE FUNCTION refuse_document_update()")


def downgrade() -> None:
    op.execute("DROP TABLE invoice_documents")
    op.execute("DROP INDEX ix_invoices_issued_at")
    op.execute("DROP FUNCTION refuse_document_update()")
    for column in ("seller", "bill_to", "document_revision"):
        op.execute(f"ALTER TABLE invoices DROP COLUMN {column}")
    for column in ("tax_rate_id", "tax_category", "tax_note"):
        op.execute(f"ALTER TABLE invoice_lines DROP COLUMN {column}")
    op.execute("ALTER TABLE clients ALTER COLUMN payment_terms_days SET DEFAULT 30")
    op.execute("DROP FUNCTION company_payment_terms_days()")
    op.execute("ALTER TABLE clients DROP COLUMN default_tax_rate_id")
    op.execute("ALTER TABLE clients DROP COLUMN country")
    op.execute("DROP TABLE tax_rates")
    op.execute("DROP TABLE company_profile")
    op.execute("DROP TABLE company_logos")
