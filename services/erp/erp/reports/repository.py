"""The finance reports' reads: plain SQL over the ledger (invoices, payments, credit notes, time entries,
expenses, rates), aggregated in the database so that the reports stay fast on large books."""

from calendar import monthrange
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
page_ids AS (SELECT id FROM p ORDER BY name, id LIMIT :limit OFFSET :offset),  -- by project only
rates AS (  -- each cost rate with the day its successor starts (as in migration 0006's `report_time_months`)
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
    -- Net invoiced: issued (not void) invoices minus credit notes, by issue date, per project and currency (the
    -- project's currency is picked below, after the sums: joining the projects first costs more than it saves).
    SELECT COALESCE(i.project_id, o.project_id) AS project_id, i.currency,
           SUM(CASE WHEN i.kind = 'invoice' THEN i.subtotal ELSE -i.subtotal END) AS revenue_invoiced
    FROM invoices i
    LEFT JOIN invoices o ON o.id = i.credit_of_id
    WHERE i.status NOT IN ('draft', 'void') AND i.issue_date {IN_PERIOD}
      AND COALESCE(i.project_id, o.project_id) IN (SELECT id FROM p)
    GROUP BY 1, 2
),
time_by_rate AS (
    -- Time per project and cost-rate currency (NULL: no cost rate on the day), priced at the rates of each
    -- entry's day. Whole months come from `report_time_months` (kept by triggers, migration 0006: a few rows
    -- per project and month instead of every entry); the months the period starts or ends inside
    -- (`:edge1`, `:edge2`, NULL if none) come from the entries themselves, priced here the same way.
    -- Time and materials value: hours at the bill rate of the day, else (`unrated`) at the schedule's rate,
    -- applied below as rate x hours (the same sum, multiplied once).
    SELECT project_id, cost_currency,
           SUM(hours) FILTER (WHERE day {IN_PERIOD}) AS hours,
           SUM(billable_hours) FILTER (WHERE day {IN_PERIOD}) AS billable_hours,
           SUM(cost) FILTER (WHERE day {IN_PERIOD}) AS cost,
           SUM(hours) FILTER (WHERE day < CAST(:date_from AS date)) AS hours_before,
           SUM(hours) FILTER (WHERE day <= CAST(:date_to AS date)) AS hours_to,
           SUM(tm_rated) FILTER (WHERE day < CAST(:date_from AS date)) AS rated_before,
           SUM(tm_unrated_hours) FILTER (WHERE day < CAST(:date_from AS date)) AS unrated_before,
           SUM(tm_rated) FILTER (WHERE day <= CAST(:date_to AS date)) AS rated_to,
           SUM(tm_unrated_hours) FILTER (WHERE day <= CAST(:date_to AS date)) AS unrated_to
    FROM (
        SELECT m.project_id, NULLIF(m.cost_currency, '') AS cost_currency, m.month AS day, m.hours,
               m.billable_hours, m.cost, m.tm_rated, m.tm_unrated_hours
        FROM report_time_months m
        WHERE m.project_id IN (SELECT id FROM p)
          AND m.month IS DISTINCT FROM CAST(:edge1 AS date) AND m.month IS DISTINCT FROM CAST(:edge2 AS date)
        UNION ALL
        SELECT t.project_id, cr.currency, t.work_date, t.hours, CASE WHEN t.billable THEN t.hours END,
               t.hours * cr.hourly_cost,
               CASE WHEN t.billable AND t.status = 'approved' THEN t.hours * br.hourly_rate END,
               CASE WHEN t.billable AND t.status = 'approved' AND br.hourly_rate IS NULL THEN t.hours END
        FROM time_entries t
        LEFT JOIN rates cr
          ON cr.user_id = t.person_id AND t.work_date >= cr.effective_from AND t.work_date < cr.until
        LEFT JOIN bill br
          ON br.project_id = t.project_id AND t.work_date >= br.effective_from AND t.work_date < br.until
        WHERE t.project_id IN (SELECT id FROM p)
          AND (t.work_date BETWEEN CAST(:edge1 AS date) AND CAST(:edge1_end AS date)
               OR t.work_date BETWEEN CAST(:edge2 AS date) AND CAST(:edge2_end AS date))
    ) AS time_rows
    GROUP BY project_id, cost_currency
),
time AS (
    -- Cost of time counts rates in the project's currency only; hours priced otherwise are `unpriced_hours`.
    SELECT p.id AS project_id, SUM(tr.hours) AS hours, SUM(tr.billable_hours) AS billable_hours,
           SUM(tr.cost) FILTER (WHERE tr.cost_currency = p.currency) AS cost_time,
           SUM(tr.hours) FILTER (WHERE tr.cost_currency IS NULL OR tr.cost_currency <> p.currency) AS unpriced_hours,
           SUM(tr.hours_before) AS hours_before, SUM(tr.hours_to) AS hours_to,
           COALESCE(SUM(tr.rated_before), 0) + COALESCE(p.schedule_rate * SUM(tr.unrated_before), 0) AS tm_before,
           COALESCE(SUM(tr.rated_to), 0) + COALESCE(p.schedule_rate * SUM(tr.unrated_to), 0) AS tm_to
    FROM time_by_rate tr JOIN p ON p.id = tr.project_id
    GROUP BY p.id, p.currency, p.schedule_rate
),
spend AS (
    -- An expense costs its net: the VAT in it is deducted as input tax (decision 215; 0 without a rate).
    SELECT e.project_id,
           SUM(e.amount - e.tax_amount) FILTER (WHERE e.currency = p.currency) AS cost_expenses,
           COUNT(*) FILTER (WHERE e.currency <> p.currency) AS unconverted_expenses
    FROM expenses e
    JOIN p ON p.id = e.project_id
    WHERE e.status = 'approved' AND e.expense_date {IN_PERIOD}
    GROUP BY e.project_id
),
minor_units AS (
    SELECT currency, places, round(0::numeric, places) AS zero
    FROM unnest(CAST(:currency_codes AS varchar[]), CAST(:currency_places AS int[])) AS m (currency, places)
),
figures AS (
    -- One row per project, money rounded to its currency's minor unit (`round_half_even` is
    -- `erp.money.round_money`, migration 0005), from the raw sums in `ledger` below. Most projects of a large
    -- book have no activity in a period: their NULL sums skip the rounding and become the currency's zero.
    SELECT project_id, project_name, status, client_id, client_name, cost_center_id, cost_center_code,
           cost_center_name, 1 AS projects, currency,
           COALESCE(round_half_even(revenue_invoiced, places), zero) AS revenue_invoiced,
           COALESCE(round_half_even(revenue_recognised, places), zero) AS revenue_recognised,
           COALESCE(round_half_even(cost_time, places), zero) AS cost_time,
           COALESCE(round_half_even(cost_expenses, places), zero) AS cost_expenses,
           round_half_even(budget_amount, places) AS budget_amount,
           hours, billable_hours, budget_hours, unpriced_hours, unconverted_expenses
    FROM (
        -- Revenue recognised, before rounding:
        -- - time and materials: approved billable hours at the bill rate, up to the cap:
        --   min(cap, value to the end) - min(cap, value before the start) (LEAST skips a NULL cap);
        -- - a budget in hours: percentage of completion by effort, budget x (share of budget hours done by the
        --   end - share done before the start), each share at most 100 % (divided at 20 decimals);
        -- - otherwise (no measure of progress): what was invoiced.
        -- (NULL: nothing, for a project without time or invoices.)
        SELECT p.id AS project_id, p.name AS project_name, p.status, p.client_id, p.client_name, p.cost_center_id,
               p.cost_center_code, p.cost_center_name, p.currency, m.places, m.zero,
               revenue.revenue_invoiced,
               CASE
                   WHEN p.billing_type = 'time_and_materials' THEN CASE WHEN time.project_id IS NOT NULL
                       THEN LEAST(COALESCE(time.tm_to, 0), p.cap) - LEAST(COALESCE(time.tm_before, 0), p.cap) END
                   WHEN p.budget_hours <> 0 THEN CASE WHEN time.project_id IS NOT NULL
                       THEN p.budget_amount * (LEAST(1, round(COALESCE(time.hours_to, 0), 20) / p.budget_hours)
                                               - LEAST(1, round(COALESCE(time.hours_before, 0), 20) / p.budget_hours))
                       END
                   ELSE revenue.revenue_invoiced
               END AS revenue_recognised,
               time.cost_time, spend.cost_expenses,
               p.budget_amount, COALESCE(time.hours, 0) AS hours, COALESCE(time.billable_hours, 0) AS billable_hours,
               p.budget_hours, COALESCE(time.unpriced_hours, 0) AS unpriced_hours,
               COALESCE(spend.unconverted_expenses, 0) AS unconverted_expenses
        FROM p
        LEFT JOIN minor_units m ON m.currency = p.currency
        LEFT JOIN revenue ON revenue.project_id = p.id AND revenue.currency = p.currency
        LEFT JOIN time ON time.project_id = p.id
        LEFT JOIN spend ON spend.project_id = p.id
        {{only}}
    ) AS ledger
)"""

# The figures summed per group: sums of the rounded project figures, as the rows show them (the totals too).
_SUMS = """SUM(projects) AS projects, currency, SUM(revenue_invoiced) AS revenue_invoiced,
           SUM(revenue_recognised) AS revenue_recognised, SUM(cost_time) AS cost_time,
           SUM(cost_expenses) AS cost_expenses, SUM(budget_amount) AS budget_amount, SUM(hours) AS hours,
           SUM(billable_hours) AS billable_hours, SUM(budget_hours) AS budget_hours,
           SUM(unpriced_hours) AS unpriced_hours, SUM(unconverted_expenses) AS unconverted_expenses"""
PROFITABILITY_KEYS = ("project_id", "project_name", "status", "client_id", "client_name", "cost_center_id",
                      "cost_center_code", "cost_center_name")

# Approved expenses booked on a cost center without a project: costs of the center itself (at their net), as a group
# of no project in the expense's currency (summed into the center's group of that currency, if it has one).
_CENTER_EXPENSES_AS_FIGURES = f"""
    SELECT NULL::uuid, NULL::varchar, NULL::varchar, NULL::uuid, NULL::varchar, e.cost_center_id, cc.code, cc.name,
           0, e.currency, 0, 0, 0, round_half_even(SUM(e.amount - e.tax_amount), m.places), 0, 0, 0, NULL::numeric, 0, 0
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


def edge_months(date_from: date, date_to: date) -> dict[str, date | None]:
    """The months a period starts or ends inside (`edge1`, `edge2` and their last days; None when the period
    starts on a first or ends on a last day): the report reads those from the time entries, not the rollup."""
    edges: dict[str, date | None] = {"edge1": None, "edge1_end": None, "edge2": None, "edge2_end": None}
    for name, day, inside in (("edge1", date_from, date_from.day != 1),
                              ("edge2", date_to, date_to.day != monthrange(date_to.year, date_to.month)[1])):
        if inside:
            edges[name] = day.replace(day=1)
            edges[f"{name}_end"] = day.replace(day=monthrange(day.year, day.month)[1])
    return edges


def profitability_sql(group_by: str, with_center_expenses: bool) -> str:
    """One statement: the requested page of groups (`part` = 'item', in order) and, per currency, the sums over
    every group with their count (`part` = 'totals'), so only a page of rows ever leaves the database.

    By project, only the page's projects and those with time, invoices or expenses in the period get figures:
    the others add nothing to the totals (a large book has thousands of them), they only count."""
    grouped, order = _GROUPINGS[group_by]
    if group_by == "project":
        ctes = _PROFITABILITY_CTES.format(only="""WHERE p.id IN (SELECT project_id FROM revenue UNION ALL
                                                 SELECT project_id FROM time UNION ALL
                                                 SELECT project_id FROM spend UNION ALL SELECT id FROM page_ids)""")
        page = "SELECT * FROM groups WHERE project_id IN (SELECT id FROM page_ids)"
        counts = "SELECT currency, COUNT(*) AS groups FROM p GROUP BY currency"
    else:
        ctes = _PROFITABILITY_CTES.format(only="")
        page = f"SELECT * FROM groups ORDER BY {order} LIMIT :limit OFFSET :offset"
        counts = "SELECT currency, COUNT(*) AS groups FROM groups GROUP BY currency"
    if group_by == "cost_center":
        source = (f"(SELECT * FROM figures UNION ALL {_CENTER_EXPENSES_AS_FIGURES}) AS f" if with_center_expenses
                  else "figures")
        grouped = grouped.format(source=source)
    return f"""{ctes},
groups AS ({grouped}),
page AS (SELECT *, row_number() OVER (ORDER BY {order}) AS position FROM ({page}) AS g),
counts AS ({counts})
SELECT 'item' AS part, position, {", ".join(PROFITABILITY_KEYS)}, currency, revenue_invoiced, revenue_recognised,
       cost_time, cost_expenses, hours, projects, budget_amount, billable_hours, budget_hours, unpriced_hours,
       unconverted_expenses, 0 AS groups
FROM page
UNION ALL
SELECT 'totals', 0, {", ".join("NULL" for _ in PROFITABILITY_KEYS)}, c.currency,
       COALESCE(SUM(g.revenue_invoiced), m.zero), COALESCE(SUM(g.revenue_recognised), m.zero),
       COALESCE(SUM(g.cost_time), m.zero), COALESCE(SUM(g.cost_expenses), m.zero), COALESCE(SUM(g.hours), 0),
       NULL, NULL, NULL, NULL, NULL, NULL, c.groups
FROM counts c LEFT JOIN groups g ON g.currency = c.currency LEFT JOIN minor_units m ON m.currency = c.currency
GROUP BY c.currency, c.groups, m.zero
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
