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
    # A plain SQL function, not STRICT and not plpgsql, so that the planner inlines it into the report query
    # (a call per value through the SQL-function executor cost ~0.5 s for 21,000 projects). A tie (the amount
    # is an odd number of half minor units) goes to the even neighbour: halve, round, double. The cheap test
    # first: most amounts (zero, budgets) have no digits past the minor unit at all.
    op.execute("""
        CREATE FUNCTION round_half_even(amount numeric, places integer) RETURNS numeric
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE
                WHEN trunc(amount, places) <> amount AND trunc(amount * 2, places) = amount * 2
                THEN round(amount * 0.5, places) * 2
                ELSE round(amount, places)
            END
        $$""")


def downgrade() -> None:
    op.execute("DROP FUNCTION round_half_even(numeric, integer)")
