"""Invoices: the ISO 11649 RF payment reference, set at issue from the number (reconciliation matches by it).

Issued invoices get theirs here, computed in SQL the way erp.invoices.rules.payment_reference does in Python:
the number's letters and digits, then the check digits of ISO 7064 MOD 97-10 over them followed by "RF00" with
letters as numbers (A=10 ... Z=35).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE invoices ADD COLUMN payment_reference VARCHAR(25)")
    op.execute("ALTER TABLE invoices ADD CONSTRAINT uq_invoices_payment_reference UNIQUE (payment_reference)")
    # Existing issued invoices: the same reference the service gives new ones (few rows; PL/pgSQL keeps it exact).
    op.execute("""
        CREATE FUNCTION pg_temp.rf_reference(number text) RETURNS text LANGUAGE plpgsql AS $$
        DECLARE
            ref text := upper(regexp_replace(number, '[^A-Za-z0-9]', '', 'g'));
            digits text := '';
            ch text;
            remainder int := 0;
        BEGIN
            FOREACH ch IN ARRAY regexp_split_to_array(ref || 'RF00', '') LOOP
                IF ch ~ '[A-Z]' THEN
                    digits := digits || (ascii(ch) - 55)::text;
                ELSE
                    digits := digits || ch;
                END IF;
            END LOOP;
            FOREACH ch IN ARRAY regexp_split_to_array(digits, '') LOOP
                remainder := (remainder * 10 + ch::int) % 97;
            END LOOP;
            RETURN 'RF' || lpad((98 - remainder)::text, 2, '0') || ref;
        END $$""")
    op.execute("UPDATE invoices SET payment_reference = pg_temp.rf_reference(number) "
               "WHERE kind = 'invoice' AND number IS NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE invoices DROP COLUMN payment_reference")
