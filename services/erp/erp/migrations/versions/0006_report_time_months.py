"""Reports: time per project, month and cost-rate currency, priced at the rates of each entry's day, kept by
triggers, so that the profitability report reads a few rows per project and month instead of every time entry
(bench scenario 7: 200,000 entries through two range joins were ~0.4 CPU s of PostgreSQL per request).

Kept by the database itself, not by the services: any writer of time entries, cost rates or bill rates (the
API, a billing run, a bulk import, psql) keeps it right. Each change recomputes the affected project-months
from the ledger rows (never adds deltas), under a per-project advisory lock, so two writers of one project
cannot leave a stale month behind. The report reads whole months from here and the months a period starts or
ends in from the time entries (erp/reports/repository.py).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The sums of one month of a project's time (`{people}`, `{projects}`: conditions that keep only the rates of
# the time being refreshed; a rate series is whole per person or project, so LEAD is unchanged); `cost_currency` '' = hours without a cost rate on their day.
# `tm_rated`: approved billable hours at the project's bill rate of the day; `tm_unrated_hours`: approved
# billable hours on days without a bill rate (priced at the schedule's hourly rate when read).
_MONTHS_OF = """
    WITH rates AS (
        SELECT user_id, hourly_cost, currency, effective_from,
               COALESCE(LEAD(effective_from) OVER (PARTITION BY user_id ORDER BY effective_from),
                        DATE '9999-12-31') AS until
        FROM cost_rates {people}
    ),
    bill AS (
        SELECT project_id, hourly_rate, effective_from,
               COALESCE(LEAD(effective_from) OVER (PARTITION BY project_id ORDER BY effective_from),
                        DATE '9999-12-31') AS until
        FROM bill_rates {projects}
    )
    SELECT t.project_id, CAST(date_trunc('month', t.work_date) AS date), COALESCE(cr.currency, ''),
           SUM(t.hours), SUM(t.hours) FILTER (WHERE t.billable), SUM(t.hours * cr.hourly_cost),
           SUM(t.hours * br.hourly_rate) FILTER (WHERE t.billable AND t.status = 'approved'),
           SUM(t.hours) FILTER (WHERE t.billable AND t.status = 'approved' AND br.hourly_rate IS NULL)
    FROM time_entries t
    LEFT JOIN rates cr ON cr.user_id = t.person_id AND t.work_date >= cr.effective_from AND t.work_date < cr.until
    LEFT JOIN bill br ON br.project_id = t.project_id AND t.work_date >= br.effective_from AND t.work_date < br.until
"""
_PEOPLE_OF_CHANGED_MONTHS = """WHERE user_id IN (
            SELECT person_id FROM time_entries
            WHERE project_id = changed_project
              AND work_date >= first_month AND work_date < after_last)"""

# The (person, project, day) of every entry an UPDATE statement changed in a way that moves a figure, before
# and after the change (an entry can move to another project, person or month).
_UPDATED = """SELECT side.person_id, side.project_id, side.work_date
                FROM old_rows o JOIN new_rows n ON n.id = o.id,
                     LATERAL (VALUES (o.person_id, o.project_id, o.work_date),
                                     (n.person_id, n.project_id, n.work_date)) AS side (person_id, project_id, work_date)
                WHERE (o.project_id, o.person_id, o.work_date, o.hours, o.billable, o.status)
                      IS DISTINCT FROM (n.project_id, n.person_id, n.work_date, n.hours, n.billable, n.status)"""


def _refresh_for(changes: str) -> str:
    """A plpgsql statement: lock the people of `changes` (person_id, project_id, work_date), then refresh each
    project over the months its changes span."""
    return f"""PERFORM refresh_report_time_changes(
                    (SELECT array_agg(DISTINCT person_id ORDER BY person_id) FROM ({changes}) AS changes),
                    array_agg(project_id ORDER BY project_id), array_agg(first_day ORDER BY project_id),
                    array_agg(last_day ORDER BY project_id))
                FROM (SELECT project_id, min(work_date) AS first_day, max(work_date) AS last_day
                      FROM ({changes}) AS changes GROUP BY project_id) AS c;"""


def upgrade() -> None:
    op.execute("""
        CREATE TABLE report_time_months (
            project_id UUID NOT NULL,
            month DATE NOT NULL,
            cost_currency VARCHAR(3) NOT NULL,
            hours NUMERIC NOT NULL,
            billable_hours NUMERIC,
            cost NUMERIC,
            tm_rated NUMERIC,
            tm_unrated_hours NUMERIC,
            PRIMARY KEY (project_id, month, cost_currency)
        )""")
    # Periods start and end mid-month: the report reads those months from the entries by date.
    op.execute("CREATE INDEX ix_time_entries_work_date ON time_entries (work_date)")
    op.execute(f"""
        CREATE FUNCTION refresh_report_time_months(changed_project UUID, first_day DATE, last_day DATE)
        RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            first_month DATE := date_trunc('month', first_day);
            last_month DATE := date_trunc('month', last_day);
            after_last DATE := date_trunc('month', last_day) + INTERVAL '1 month';
        BEGIN
            -- One refresher per project at a time; each statement below then sees what the previous one committed.
            PERFORM pg_advisory_xact_lock(hashtextextended('report_time_months:' || changed_project::text, 0));
            DELETE FROM report_time_months
            WHERE project_id = changed_project AND month BETWEEN first_month AND last_month;
            INSERT INTO report_time_months (project_id, month, cost_currency, hours, billable_hours, cost, tm_rated,
                                            tm_unrated_hours)
            {_MONTHS_OF.format(people=_PEOPLE_OF_CHANGED_MONTHS, projects="WHERE project_id = changed_project")}
            WHERE t.project_id = changed_project
              AND t.work_date >= first_month AND t.work_date < after_last
            GROUP BY 1, 2, 3;
        END $$""")
    # Locks, always in this order: the people whose time changed (a cost rate of theirs being added at the same
    # moment waits, or is waited for, so one of the two sees the other), then each project in id order. A FOR
    # loop, not a set-returning PERFORM, so the order is the one asked for.
    op.execute("""
        CREATE FUNCTION refresh_report_time_changes(people VARCHAR[], projects UUID[], first_days DATE[],
                                                    last_days DATE[])
        RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            person VARCHAR;
        BEGIN
            FOREACH person IN ARRAY COALESCE(people, '{}') LOOP
                PERFORM pg_advisory_xact_lock(hashtextextended('report_time_months:person:' || person, 0));
            END LOOP;
            FOR i IN 1 .. COALESCE(array_length(projects, 1), 0) LOOP
                PERFORM refresh_report_time_months(projects[i], first_days[i], last_days[i]);
            END LOOP;
        END $$""")
    op.execute(f"""
        CREATE FUNCTION report_time_months_on_time_entries() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_refresh_for("SELECT person_id, project_id, work_date FROM new_rows")}
            ELSIF TG_OP = 'DELETE' THEN
                {_refresh_for("SELECT person_id, project_id, work_date FROM old_rows")}
            ELSE
                -- Only changes that move a figure count: a billing run setting invoice_id changes none.
                {_refresh_for(_UPDATED)}
            END IF;
            RETURN NULL;
        END $$""")
    for event, tables in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                          ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
        op.execute(f"""
            CREATE TRIGGER report_time_months_{event.lower()} AFTER {event} ON time_entries
            REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION report_time_months_on_time_entries()""")
    # A cost rate prices its person's time from its start date on; a bill rate its project's time. The people
    # (or projects) are locked by a statement of their own before the time entries are read: a time entry being
    # written at the same moment is then either seen by this refresh or refreshed after this rate is committed.
    op.execute("""
        CREATE FUNCTION report_time_months_on_rates() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            locked UUID;
        BEGIN
            IF TG_TABLE_NAME = 'cost_rates' THEN
                PERFORM refresh_report_time_changes(array_agg(DISTINCT user_id ORDER BY user_id), NULL, NULL, NULL)
                FROM changed_rates;
                PERFORM refresh_report_time_changes(NULL, array_agg(project_id ORDER BY project_id),
                                                    array_agg(first_day ORDER BY project_id),
                                                    array_agg(last_day ORDER BY project_id))
                FROM (SELECT t.project_id, min(t.work_date) AS first_day, max(t.work_date) AS last_day
                      FROM time_entries t
                      JOIN (SELECT user_id, min(effective_from) AS since FROM changed_rates GROUP BY user_id) AS r
                        ON r.user_id = t.person_id AND t.work_date >= r.since
                      GROUP BY t.project_id) AS c;
            ELSE
                FOR locked IN SELECT DISTINCT project_id FROM changed_rates ORDER BY project_id LOOP
                    PERFORM pg_advisory_xact_lock(hashtextextended('report_time_months:' || locked::text, 0));
                END LOOP;
                PERFORM refresh_report_time_changes(NULL, array_agg(project_id ORDER BY project_id),
                                                    array_agg(first_day ORDER BY project_id),
                                                    array_agg(last_day ORDER BY project_id))
                FROM (SELECT t.project_id, min(t.work_date) AS first_day, max(t.work_date) AS last_day
                      FROM time_entries t
                      JOIN (SELECT project_id, min(effective_from) AS since FROM changed_rates GROUP BY project_id) AS r
                        ON r.project_id = t.project_id AND t.work_date >= r.since
                      GROUP BY t.project_id) AS c;
            END IF;
            RETURN NULL;
        END $$""")
    for table in ("cost_rates", "bill_rates"):
        for name, event, tables in (("insert", "INSERT", "NEW TABLE AS changed_rates"),
                                    ("delete", "DELETE", "OLD TABLE AS changed_rates"),
                                    ("update", "UPDATE", "OLD TABLE AS changed_rates"),
                                    ("update_new", "UPDATE", "NEW TABLE AS changed_rates")):
            op.execute(f"""
                CREATE TRIGGER report_time_months_{name} AFTER {event} ON {table}
                REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION report_time_months_on_rates()""")
    op.execute(f"""
        INSERT INTO report_time_months (project_id, month, cost_currency, hours, billable_hours, cost, tm_rated,
                                        tm_unrated_hours)
        {_MONTHS_OF.format(people="", projects="")}
        GROUP BY 1, 2, 3""")


def downgrade() -> None:
    for table in ("time_entries", "cost_rates", "bill_rates"):
        for event in ("insert", "delete", "update", "update_new"):
            op.execute(f"DROP TRIGGER IF EXISTS report_time_months_{event} ON {table}")
    op.execute("DROP FUNCTION report_time_months_on_rates()")
    op.execute("DROP FUNCTION report_time_months_on_time_entries()")
    op.execute("DROP FUNCTION refresh_report_time_changes(VARCHAR[], UUID[], DATE[], DATE[])")
    op.execute("DROP FUNCTION refresh_report_time_months(UUID, DATE, DATE)")
    op.execute("DROP INDEX ix_time_entries_work_date")
    op.execute("DROP TABLE report_time_months")
