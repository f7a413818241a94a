"""The finance reports' reads: plain SQL over the ledger (invoices, payments, credit notes, time entries,
expenses, rates), aggregated in the database so that the reports stay fast on large books."""

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

FAR_PAST, FAR_FUTURE = date(1, 1, 1), date(9999, 12, 31)
IN_PERIOD = "BETWEEN CAST(:date_from AS date) AND CAST(:date_to AS date)"
AS_OF = "CAST(:as_of AS date)"

_PROJECTS = """
    SELECT p.id, p.name, p.client_id, c.name AS client_name, p.cost_center_id, cc.code AS cost_center_code,
           cc.name AS cost_center_name, p.status, p.currency, p.budget_amount, p.budget_hours,
           bs.billing_type, bs.hourly_rate AS schedule_rate, bs.cap
    FROM projects p
    JOIN clients c ON c.id = p.client_id
    LEFT JOIN cost_centers cc ON cc.id = p.cost_center_id
    LEFT JOIN billing_schedules bs ON bs.project_id = p.id
    WHERE (CAST(:client_id AS uuid) IS NULL OR p.client_id = CAST(:client_id AS uuid))
      AND (CAST(:project_id AS uuid) IS NULL OR p.id = CAST(:project_id AS uuid))
      AND (CAST(:cost_center_id AS uuid) IS NULL OR p.cost_center_id = CAST(:cost_center_id AS uuid))
      AND (CAST(:currency AS varchar) IS NULL OR p.currency = CAST(:currency AS varchar))
      AND (CAST(:status AS varchar) IS NULL OR p.status = CAST(:status AS varchar))
"""

# The ledger per project, in CTEs shared by the three groupings (`profitability_sql` adds the grouping).
_PROFITABILITY_CTES = f"""
WITH p AS ({_PROJECTS}),
rates AS (  -- each cost rate with the day its successor starts (a range join beats a lookup per entry)
    SELECT user_id, hourly_cost, currency, effective_from,
           COALESCE(LEAD(effective_from) OVER (PARTITION BY user_id ORDER BY effective_from),
                    DATE '9999-12-31') AS until
    FROM cost_rates
),
bill AS (
    SELECT project_id, hourly_rate, effective_from,
           COALESCE(LEAD(effective_from) OVER (PARTITION BY project_id ORDER BY effective_from),
                    DATE '9999-12-31') AS until
    FROM bill_rates
),
revenue AS (
    -- Net invoiced: issued (not void) invoices minus credit notes, in the project's currency, by issue date.
    SELECT COALESCE(i.project_id, o.project_id) AS project_id,
           SUM(CASE WHEN i.kind = 'invoice' THEN i.subtotal ELSE -i.subtotal END) AS revenue_invoiced
    FROM invoices i
    LEFT JOIN invoices o ON o.id = i.credit_of_id
    JOIN p ON p.id = COALESCE(i.project_id, o.project_id) AND p.currency = i.currency
    WHERE i.status NOT IN ('draft', 'void') AND i.issue_date {IN_PERIOD}
    GROUP BY 1
),
time AS (
    SELECT t.project_id,
           SUM(t.hours) FILTER (WHERE t.work_date {IN_PERIOD}) AS hours,
           SUM(t.hours) FILTER (WHERE t.work_date {IN_PERIOD} AND t.billable) AS billable_hours,
           SUM(t.hours * cr.hourly_cost) FILTER (
               WHERE t.work_date {IN_PERIOD} AND cr.currency = p.currency) AS cost_time,
           SUM(t.hours) FILTER (WHERE t.work_date {IN_PERIOD}
                                  AND (cr.currency IS NULL OR cr.currency <> p.currency)) AS unpriced_hours,
           SUM(t.hours) FILTER (WHERE t.work_date < CAST(:date_from AS date)) AS hours_before,
           SUM(t.hours) FILTER (WHERE t.work_date <= CAST(:date_to AS date)) AS hours_to,
           SUM(t.hours * COALESCE(br.hourly_rate, p.schedule_rate)) FILTER (
               WHERE t.billable AND t.status = 'approved' AND t.work_date < CAST(:date_from AS date)) AS tm_before,
           SUM(t.hours * COALESCE(br.hourly_rate, p.schedule_rate)) FILTER (
               WHERE t.billable AND t.status = 'approved' AND t.work_date <= CAST(:date_to AS date)) AS tm_to
    FROM time_entries t
    JOIN p ON p.id = t.project_id
    LEFT JOIN rates cr ON cr.user_id = t.person_id AND t.work_date >= cr.effective_from AND t.work_date < cr.until
    LEFT JOIN bill br ON br.project_id = t.project_id AND t.work_date >= br.effective_from AND t.work_date < br.until
    GROUP BY t.project_id
),
spend AS (
    SELECT e.project_id,
           SUM(e.amount) FILTER (WHERE e.currency = p.currency) AS cost_expenses,
           COUNT(*) FILTER (WHERE e.currency <> p.currency) AS unconverted_expenses
    FROM expenses e
    JOIN p ON p.id = e.project_id
    WHERE e.status = 'approved' AND e.expense_date {IN_PERIOD}
    GROUP BY e.project_id
),
minor_units AS (SELECT * FROM unnest(CAST(:currency_codes AS varchar[]), CAST(:currency_places AS int[]))
                AS m (currency, places)),
figures AS (
    -- One row per project, money rounded to its currency's minor unit (`round_half_even` is
    -- `erp.money.round_money`, migration 0005). Revenue recognised, before rounding:
    -- - time and materials: approved billable hours at the bill rate, up to the cap:
    --   min(cap, value to the end) - min(cap, value before the start) (LEAST skips a NULL cap);
    -- - a budget in hours: percentage of completion by effort, budget x (share of budget hours done by the
    --   end - share done before the start), each share at most 100 % (divided at 20 decimals);
    -- - otherwise (no measure of progress): what was invoiced.
    SELECT p.id AS project_id, p.name AS project_name, p.status, p.client_id, p.client_name, p.cost_center_id,
           p.cost_center_code, p.cost_center_name, 1 AS projects, p.currency,
           round_half_even(COALESCE(revenue.revenue_invoiced, 0), m.places) AS revenue_invoiced,
           round_half_even(CASE
               WHEN p.billing_type = 'time_and_materials'
                   THEN LEAST(COALESCE(time.tm_to, 0), p.cap) - LEAST(COALESCE(time.tm_before, 0), p.cap)
               WHEN p.budget_hours <> 0
                   THEN p.budget_amount * (LEAST(1, round(COALESCE(time.hours_to, 0), 20) / p.budget_hours)
                                           - LEAST(1, round(COALESCE(time.hours_before, 0), 20) / p.budget_hours))
               ELSE COALESCE(revenue.revenue_invoiced, 0)
           END, m.places) AS revenue_recognised,
           round_half_even(COALESCE(time.cost_time, 0), m.places) AS cost_time,
           round_half_even(COALESCE(spend.cost_expenses, 0), m.places) AS cost_expenses,
           round_half_even(p.budget_amount, m.places) AS budget_amount,
           COALESCE(time.hours, 0) AS hours, COALESCE(time.billable_hours, 0) AS billable_hours, p.budget_hours,
           COALESCE(time.unpriced_hours, 0) AS unpriced_hours,
           COALESCE(spend.unconverted_expenses, 0) AS unconverted_expenses
    FROM p
    LEFT JOIN minor_units m ON m.currency = p.currency
    LEFT JOIN revenue ON revenue.project_id = p.id
    LEFT JOIN time ON time.project_id = p.id
    LEFT JOIN spend ON spend.project_id = p.id
)"""

# The figures summed per group (also what the totals sum: rounded project figures, as the report shows them).
_SUMS = """SUM(projects) AS projects, currency, SUM(revenue_invoiced) AS revenue_invoiced,
           SUM(revenue_recognised) AS revenue_recognised, SUM(cost_time) AS cost_time,
           SUM(cost_expenses) AS cost_expenses, SUM(budget_amount) AS budget_amount, SUM(hours) AS hours,
           SUM(billable_hours) AS billable_hours, SUM(budget_hours) AS budget_hours,
           SUM(unpriced_hours) AS unpriced_hours, SUM(unconverted_expenses) AS unconverted_expenses"""
PROFITABILITY_KEYS = ("project_id", "project_name", "status", "client_id", "client_name", "cost_center_id",
                      "cost_center_code", "cost_center_name")

# Approved expenses booked on a cost center without a project: costs of the center itself, as a group of no
# project in the expense's currency (summed into the center's group of that currency, if it has one).
_CENTER_EXPENSES_AS_FIGURES = f"""
    SELECT NULL::uuid, NULL::varchar, NULL::varchar, NULL::uuid, NULL::varchar, e.cost_center_id, cc.code, cc.name,
           0, e.currency, 0, 0, 0, round_half_even(SUM(e.amount), m.places), 0, 0, 0, NULL::numeric, 0, 0
    FROM expenses e JOIN cost_centers cc ON cc.id = e.cost_center_id
    LEFT JOIN minor_units m ON m.currency = e.currency
    WHERE e.project_id IS NULL AND e.status = 'approved' AND e.expense_date {IN_PERIOD}
      AND (CAST(:cost_center_id AS uuid) IS NULL OR e.cost_center_id = CAST(:cost_center_id AS uuid))
      AND (CAST(:currency AS varchar) IS NULL OR e.currency = CAST(:currency AS varchar))
    GROUP BY e.cost_center_id, cc.code, cc.name, e.currency, m.places"""

# Each grouping: the keys it groups by and its stable order. Client and cost center names sort by code point
# (COLLATE "C"), as they did when the grouping was done in Python; projects by the database's collation.
_GROUPINGS = {
    "project": ("SELECT * FROM figures", "project_name, project_id"),
    "client": (f"SELECT NULL::uuid AS project_id, NULL::varchar AS project_name, NULL::varchar AS status, client_id, "
               f"client_name, NULL::uuid AS cost_center_id, NULL::varchar AS cost_center_code, "
               f"NULL::varchar AS cost_center_name, {_SUMS} FROM figures GROUP BY client_id, client_name, currency",
               'client_name COLLATE "C", client_id, currency'),
    "cost_center": ("SELECT NULL::uuid AS project_id, NULL::varchar AS project_name, NULL::varchar AS status, "
                    "NULL::uuid AS client_id, NULL::varchar AS client_name, cost_center_id, cost_center_code, "
                    f"cost_center_name, {_SUMS} FROM {{source}} "
                    "GROUP BY cost_center_id, cost_center_code, cost_center_name, currency",
                    'COALESCE(cost_center_code, \'\') COLLATE "C", cost_center_id, currency'),
}


def profitability_sql(group_by: str, with_center_expenses: bool) -> str:
    """One statement: the requested page of groups (`part` = 'item', in order) and, per currency, the sums over
    every group with their count (`part` = 'totals'), so only a page of rows ever leaves the database."""
    grouped, order = _GROUPINGS[group_by]
    if group_by == "cost_center":
        source = (f"(SELECT * FROM figures UNION ALL {_CENTER_EXPENSES_AS_FIGURES}) AS f" if with_center_expenses
                  else "figures")
        grouped = grouped.format(source=source)
    return f"""{_PROFITABILITY_CTES},
groups AS ({grouped}),
page AS (SELECT *, row_number() OVER (ORDER BY {order}) AS position
         FROM (SELECT * FROM groups ORDER BY {order} LIMIT :limit OFFSET :offset) AS g)
SELECT 'item' AS part, position, {", ".join(PROFITABILITY_KEYS)}, projects, currency, revenue_invoiced,
       revenue_recognised, cost_time, cost_expenses, budget_amount, hours, billable_hours, budget_hours, unpriced_hours,
       unconverted_expenses, 0 AS groups
FROM page
UNION ALL
SELECT 'totals', 0, {", ".join("NULL" for _ in PROFITABILITY_KEYS)}, {_SUMS}, COUNT(*) FROM groups GROUP BY currency
ORDER BY part, position, currency
"""


# Money expected in and out, each with the date it is expected.
CASH_FLOW = """
SELECT source, currency, expected_on, SUM(amount) AS amount FROM (
SELECT 'invoices' AS source, i.currency, i.due_date AS expected_on, i.balance_due AS amount
FROM invoices i
WHERE i.kind = 'invoice' AND i.status IN ('issued', 'partially_paid') AND i.balance_due > 0
  AND (CAST(:client_id AS uuid) IS NULL OR i.client_id = CAST(:client_id AS uuid))
  AND (CAST(:currency AS varchar) IS NULL OR i.currency = CAST(:currency AS varchar))
UNION ALL
SELECT 'schedule', bs.currency, si.due_date + c.payment_terms_days, si.amount
FROM schedule_items si
JOIN billing_schedules bs ON bs.id = si.schedule_id
JOIN projects p ON p.id = bs.project_id
JOIN clients c ON c.id = p.client_id
WHERE si.status = 'pending' AND si.invoice_id IS NULL AND si.due_date IS NOT NULL
  AND p.status IN ('active', 'on_hold')
  AND (CAST(:client_id AS uuid) IS NULL OR p.client_id = CAST(:client_id AS uuid))
  AND (CAST(:currency AS varchar) IS NULL OR bs.currency = CAST(:currency AS varchar))
UNION ALL
SELECT 'expenses', e.currency, CAST(e.decided_at AS date), e.amount
FROM expenses e
LEFT JOIN projects p ON p.id = e.project_id
WHERE e.status = 'approved' AND e.reimbursed_at IS NULL
  AND (CAST(:client_id AS uuid) IS NULL OR p.client_id = CAST(:client_id AS uuid))
  AND (CAST(:currency AS varchar) IS NULL OR e.currency = CAST(:currency AS varchar))
) flows
GROUP BY source, currency, expected_on
"""

# What each issued invoice still owed on `as_of`: its total less the payments and credit notes up to then.
AR_AGING = f"""
WITH paid AS (
    SELECT pm.invoice_id, SUM(pm.amount) AS amount FROM payments pm
    WHERE pm.paid_on <= {AS_OF} GROUP BY pm.invoice_id
),
credited AS (
    SELECT cn.credit_of_id AS invoice_id, SUM(cn.total) AS amount FROM invoices cn
    WHERE cn.kind = 'credit_note' AND cn.status NOT IN ('draft', 'void') AND cn.issue_date <= {AS_OF}
    GROUP BY cn.credit_of_id
),
open AS (
    SELECT i.id, i.client_id, i.currency, i.due_date,
           i.total - COALESCE(paid.amount, 0) - COALESCE(credited.amount, 0) AS open_amount
    FROM invoices i
    LEFT JOIN paid ON paid.invoice_id = i.id
    LEFT JOIN credited ON credited.invoice_id = i.id
    WHERE i.kind = 'invoice' AND i.status NOT IN ('draft', 'void') AND i.issue_date <= {AS_OF}
      AND (CAST(:client_id AS uuid) IS NULL OR i.client_id = CAST(:client_id AS uuid))
      AND (CAST(:currency AS varchar) IS NULL OR i.currency = CAST(:currency AS varchar))
)
SELECT open.client_id, c.name AS client_name, open.currency,
       SUM(open.open_amount) FILTER (WHERE open.due_date > {AS_OF}) AS not_due,
       SUM(open.open_amount) FILTER (WHERE {AS_OF} - open.due_date BETWEEN 0 AND 30) AS d0_30,
       SUM(open.open_amount) FILTER (WHERE {AS_OF} - open.due_date BETWEEN 31 AND 60) AS d31_60,
       SUM(open.open_amount) FILTER (WHERE {AS_OF} - open.due_date BETWEEN 61 AND 90) AS d61_90,
       SUM(open.open_amount) FILTER (WHERE {AS_OF} - open.due_date > 90) AS d90_plus,
       SUM(open.open_amount) AS total, COUNT(*) AS invoices
FROM open JOIN clients c ON c.id = open.client_id
WHERE open.open_amount > 0
GROUP BY open.client_id, c.name, open.currency
ORDER BY c.name, open.client_id, open.currency
"""

UTILISATION = f"""
SELECT t.person_id, date_trunc('week', t.work_date)::date AS week, SUM(t.hours) AS hours,
       SUM(t.hours) FILTER (WHERE t.billable) AS billable_hours
FROM time_entries t
WHERE t.work_date {IN_PERIOD}
  AND (CAST(:person_id AS varchar) IS NULL OR t.person_id = CAST(:person_id AS varchar))
  AND (CAST(:project_id AS uuid) IS NULL OR t.project_id = CAST(:project_id AS uuid))
GROUP BY 1, 2
"""

CAPACITIES = """
SELECT user_id, effective_from, hours_per_week FROM capacities
WHERE (CAST(:person_id AS varchar) IS NULL OR user_id = CAST(:person_id AS varchar))
ORDER BY user_id, effective_from
"""


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._custom_plans = False

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        if not self._custom_plans:
            # The statements are prepared once per pooled connection; from the sixth execution PostgreSQL may
            # switch to a generic plan, which cannot see that `CAST(:client_id AS uuid) IS NULL` is true and
            # plans for a handful of projects: profitability went from 0.4 s to 24-31 s at 1,000 projects and
            # 200,000 time entries (bench scenario 7). Plan each report for its actual parameters (this
            # transaction only).
            await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            self._custom_plans = True
        result = await self.session.execute(text(sql), params)
        # The column names once, zipped with each tuple: `dict(row) for row in result.mappings()` builds a key
        # view per row (about 4 % of erp-api's samples in bench scenario 7, py-spy).
        keys = list(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result.tuples()]
