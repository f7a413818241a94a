"""Reports: banker's rounding in SQL, so that the profitability report can round, group, page and total its
projects in the database instead of loading every project into erp-api (bench scenarios 6 and 7).

`round_half_even(amount, places)` is `erp.money.round_money` (ROUND_HALF_EVEN to the currency's minor unit):
PostgreSQL's own `round(numeric, int)` rounds halves away from zero, which would move totals by a cent.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain SQL function (not plpgsql), so the planner can inline it into the report query.
    op.execute("""
        CREATE FUNCTION round_half_even(amount numeric, places integer) RETURNS numeric
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT CASE
                WHEN abs(amount - trunc(amount, places)) * 2 = power(10::numeric, -places)
                     AND mod(trunc(amount, places) * power(10::numeric, places), 2) = 0
                THEN trunc(amount, places)
                ELSE round(amount, places)
            END
        $$""")


def downgrade() -> None:
    op.execute("DROP FUNCTION round_half_even(numeric, integer)")
