"""The budgets' reads: one project's burn summed in the database (its time from the index that carries the hours,
its cost from the reports' monthly rollup, its invoices and expenses), and its settings and alerts."""

import json
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from erp.budgets.bookings import REMAINING_BOOKED_SQL
from erp.budgets.models import BudgetAlert, BudgetSettings

# What a project has burnt, in hours and in money (its currency). Every part is a sum over one project's rows,
# through an index on project_id:
# - hours: every entry (the covering index ix_time_entries_project_budget, migration 0016, answers it alone);
# - cost of time: the monthly rollup `report_time_months` (migration 0006: priced at each entry's day's cost rate,
#   kept by triggers), in the project's currency only (other hours are `unpriced_hours`);
# - approved expenses at their net (the VAT in them is deducted, decision 215) in the project's currency (others
#   counted in `unconverted_expenses`); the unbilled ones at their net too: what they are re-billed at.
# `{projects}`: which projects (one, or several for the threshold check).
_ACTUALS = """
    SELECT p.id, p.name, p.owner_id, p.currency, p.budget_hours, p.budget_amount,
           (SELECT COALESCE(SUM(m.hours), 0) FROM report_time_months m WHERE m.project_id = p.id) AS actual_hours,
           (SELECT SUM(m.cost) FROM report_time_months m
            WHERE m.project_id = p.id AND m.cost_currency = p.currency) AS cost_time,
           (SELECT COALESCE(SUM(m.hours), 0) FROM report_time_months m
            WHERE m.project_id = p.id AND m.cost_currency <> p.currency) AS unpriced_hours,
           e.cost_expenses, e.unbilled_expenses, COALESCE(e.unconverted_expenses, 0) AS unconverted_expenses
    FROM projects p
    LEFT JOIN LATERAL (
        SELECT SUM(x.amount - x.tax_amount) FILTER (WHERE x.currency = p.currency) AS cost_expenses,
               SUM(x.amount - x.tax_amount) FILTER (WHERE x.currency = p.currency AND x.billing_status = 'unbilled')
                   AS unbilled_expenses,
               COUNT(*) FILTER (WHERE x.currency <> p.currency) AS unconverted_expenses
        FROM expenses x WHERE x.project_id = p.id AND x.status = 'approved'
    ) AS e ON true
    WHERE {projects}
"""
_ONE = "p.id = CAST(:project_id AS uuid)"

# The rest of the budget's figures: hours approved and not billed, hours billed, per day from the covering index
# ix_time_entries_project_budget (migration 0016) alone; the unbilled hours valued at the bill rate of their day,
# else the time-and-materials schedule's rate (`unrated_hours`: neither); net invoiced (invoices less credit notes,
# issued, in the project's currency; a credit note may name only the invoice it credits).
_BILLING = f"""
    SELECT COALESCE(SUM(d.unbilled_hours), 0) AS unbilled_hours, COALESCE(SUM(d.invoiced_hours), 0) AS invoiced_hours,
           SUM(d.unbilled_hours * COALESCE(br.hourly_rate, bs.hourly_rate)) AS unbilled_time_value,
           COALESCE(SUM(d.unbilled_hours) FILTER (WHERE COALESCE(br.hourly_rate, bs.hourly_rate) IS NULL), 0)
               AS unrated_hours,
           (SELECT SUM(CASE WHEN x.kind = 'invoice' THEN x.subtotal ELSE -x.subtotal END)
            FROM invoices x
            WHERE x.status NOT IN ('draft', 'void') AND x.currency = p.currency
              AND (x.project_id = p.id
                   OR x.credit_of_id IN (SELECT o.id FROM invoices o WHERE o.project_id = p.id))) AS invoiced
    FROM projects p
    LEFT JOIN billing_schedules bs ON bs.project_id = p.id
    LEFT JOIN LATERAL (
        SELECT t.work_date,
               SUM(t.hours) FILTER (WHERE t.billable AND t.status = 'approved' AND t.invoice_id IS NULL
                                        AND NOT t.beyond_cap) AS unbilled_hours,
               SUM(t.hours) FILTER (WHERE t.invoice_id IS NOT NULL) AS invoiced_hours
        FROM time_entries t WHERE t.project_id = p.id
        GROUP BY t.work_date
    ) AS d ON true
    LEFT JOIN LATERAL (
        SELECT b.hourly_rate FROM bill_rates b
        WHERE b.project_id = p.id AND b.effective_from <= d.work_date
        ORDER BY b.effective_from DESC LIMIT 1
    ) AS br ON d.unbilled_hours IS NOT NULL
    WHERE {_ONE}
    GROUP BY p.id, p.currency, bs.hourly_rate
"""

# The threshold check's state, for several projects at once: the actuals, the project's own thresholds and the
# alerts it has had.
_BURN = f"""
    SELECT a.*, s.thresholds,
           (SELECT json_agg(json_build_object('measure', al.measure, 'threshold', al.threshold, 'budget', al.budget))
            FROM project_budget_alerts al WHERE al.project_id = a.id)::text AS reached
    FROM ({_ACTUALS.format(projects="p.id = ANY(CAST(:project_ids AS uuid[]))")}) AS a
    LEFT JOIN project_budget_settings s ON s.project_id = a.id
    ORDER BY a.id
"""

# Everything the budget shows, in one round trip (decision 201): the actuals, the billing figures, the project's own
# thresholds (NULL: the default), the hours booked from `:from_week` on and what they cost (each person's hours at
# their cost rate in force that day in the project's currency; a person without one adds hours but no money), a
# milestones project's phases (its schedule's items, each with what was invoiced for it, net of credit notes) and
# the alerts reached, newest first; phases and alerts as JSON text (read with exact decimals: the driver's own JSON
# decoding would make the amounts floats).
_FIGURES = f"""
    WITH booked AS ({REMAINING_BOOKED_SQL})
    SELECT a.*, b.*, s.thresholds,
           (SELECT COALESCE(SUM(bk.hours), 0) FROM booked bk) AS booked_hours,
           (SELECT SUM(bk.hours * r.hourly_cost) FROM booked bk
            CROSS JOIN LATERAL (
                SELECT c.hourly_cost FROM cost_rates c
                WHERE c.user_id = bk.person_id AND c.effective_from <= CAST(:from_week AS date)
                  AND c.currency = a.currency
                ORDER BY c.effective_from DESC LIMIT 1) AS r) AS booked_cost,
           (SELECT json_agg(json_build_object(
                       'position', si.position, 'label', si.label, 'due_date', si.due_date, 'status', si.status,
                       'budget', si.amount,
                       'invoiced', COALESCE((
                           SELECT SUM(CASE WHEN x.kind = 'invoice' THEN x.subtotal ELSE -x.subtotal END)
                           FROM invoices x
                           WHERE x.status NOT IN ('draft', 'void')
                             AND (x.id = si.invoice_id OR x.credit_of_id = si.invoice_id)), 0))
                       ORDER BY si.position)
            FROM billing_schedules bs JOIN schedule_items si ON si.schedule_id = bs.id
            WHERE bs.project_id = a.id AND bs.billing_type = 'milestones')::text AS phases,
           (SELECT json_agg(json_build_object(
                       'id', al.id, 'measure', al.measure, 'threshold', al.threshold, 'budget', al.budget,
                       'actual', al.actual, 'reached_at', al.reached_at)
                       ORDER BY al.reached_at DESC, al.measure, al.threshold DESC)
            FROM project_budget_alerts al WHERE al.project_id = a.id)::text AS alerts
    FROM ({_ACTUALS.format(projects=_ONE)}) AS a
    CROSS JOIN ({_BILLING}) AS b
    LEFT JOIN project_budget_settings s ON s.project_id = a.id
"""

class BudgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _one(self, sql: str, **params: Any) -> dict[str, Any] | None:
        row = (await self.session.execute(text(sql), params)).mappings().first()
        return dict(row) if row is not None else None

    async def burn(self, project_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
        """What the threshold check needs, for all the projects in one round trip, in the order of their ids: the
        budget, what it has burnt, the project's own thresholds (None: the default) and the (measure, threshold,
        budget) it has alerted (a project that does not exist has no row)."""
        found = await rows(self.session, _BURN, project_ids=project_ids)
        for row in found:
            row["reached"] = json.loads(row["reached"], parse_float=Decimal) if row["reached"] else []
        return found

    async def figures(self, project_id: uuid.UUID, from_week: date) -> dict[str, Any] | None:
        """The budget's figures, its thresholds, the hours booked from `from_week` on and their cost, its phases and
        alerts (None: no such project)."""
        row = await self._one(_FIGURES, project_id=project_id, from_week=from_week)
        if row is not None:
            for key in ("phases", "alerts"):
                row[key] = json.loads(row[key], parse_float=Decimal) if row[key] else []
        return row

    async def settings(self, project_id: uuid.UUID) -> BudgetSettings | None:
        return await self.session.get(BudgetSettings, project_id)

    def add(self, row: BudgetSettings | BudgetAlert) -> None:
        self.session.add(row)

    async def lock(self, project_ids: list[uuid.UUID]) -> None:
        """Serialises the threshold checks of each project until the transaction ends (two entries committed at the
        same moment cannot both miss, or both send, the alert their sum crosses); several in one statement, in one
        order (the ids'), so that two checks cannot deadlock."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(CAST(:keys AS text[])) AS k "
                 'ORDER BY k COLLATE "C"'), {"keys": [f"budget:{project_id}" for project_id in sorted(project_ids)]})


# The department efficiency report's time: per project, person (with their department) and project currency over a
# period, hours, billable hours, and the billable hours at their list rate (the project's bill rate of the day, else
# its time-and-materials rate; `rated_hours` are the billable hours that have one). The report groups these rows by
# the project's cost center or by the person's department (docs/decisions.md, 136 and 212).
EFFICIENCY_TIME = """
    WITH bill AS (
        SELECT project_id, hourly_rate, effective_from,
               COALESCE(LEAD(effective_from) OVER (PARTITION BY project_id ORDER BY effective_from),
                        DATE '9999-12-31') AS until
        FROM bill_rates
    ),
    cost AS (
        SELECT user_id, hourly_cost, currency, effective_from,
               COALESCE(LEAD(effective_from) OVER (PARTITION BY user_id ORDER BY effective_from),
                        DATE '9999-12-31') AS until
        FROM cost_rates
    )
    SELECT p.cost_center_id, t.project_id, t.person_id, pe.department, p.currency, SUM(t.hours) AS hours,
           COALESCE(SUM(t.hours) FILTER (WHERE t.billable), 0) AS billable_hours,
           SUM(t.hours * COALESCE(br.hourly_rate, bs.hourly_rate)) FILTER (WHERE t.billable) AS list_value,
           COALESCE(SUM(t.hours) FILTER (WHERE t.billable AND COALESCE(br.hourly_rate, bs.hourly_rate) IS NOT NULL),
                    0) AS rated_hours,
           -- The time's cost at the person's cost rate of the day, in the project's currency (as the profitability
           -- report prices it): by department, the share of the project's cost of time.
           COALESCE(SUM(t.hours * cr.hourly_cost) FILTER (WHERE cr.currency = p.currency), 0) AS cost_value
    FROM time_entries t
    JOIN projects p ON p.id = t.project_id
    LEFT JOIN billing_schedules bs ON bs.project_id = p.id
    LEFT JOIN bill br ON br.project_id = t.project_id AND t.work_date >= br.effective_from AND t.work_date < br.until
    LEFT JOIN cost cr ON cr.user_id = t.person_id AND t.work_date >= cr.effective_from AND t.work_date < cr.until
    LEFT JOIN people pe ON pe.id = t.person_id
    WHERE t.work_date BETWEEN CAST(:date_from AS date) AND CAST(:date_to AS date)
    GROUP BY p.cost_center_id, t.project_id, t.person_id, pe.department, p.currency
"""

# Approved expenses booked on a cost center without a project (the cost center report counts them as the center's
# cost, at its net: deductible VAT is no cost, decision 215), per department of the person who submitted them and
# currency: by department, they are that department's.
CENTER_EXPENSES_BY_DEPARTMENT = """
    SELECT pe.department, e.currency, SUM(e.amount - e.tax_amount) AS amount
    FROM expenses e
    LEFT JOIN people pe ON pe.id = e.submitted_by
    WHERE e.project_id IS NULL AND e.cost_center_id IS NOT NULL AND e.status = 'approved'
      AND e.expense_date BETWEEN CAST(:date_from AS date) AND CAST(:date_to AS date)
    GROUP BY pe.department, e.currency
"""

# Each person's capacity over a period: the weekly capacity in force on each weekday, a fifth of it per day.
CAPACITY_IN_PERIOD = """
    SELECT u.user_id, SUM(cap.hours_per_week) / 5 AS capacity_hours
    FROM unnest(CAST(:people AS varchar[])) AS u (user_id)
    CROSS JOIN generate_series(CAST(:date_from AS date), CAST(:date_to AS date), INTERVAL '1 day') AS d (day)
    CROSS JOIN LATERAL (
        SELECT c.hours_per_week FROM capacities c
        WHERE c.user_id = u.user_id AND c.effective_from <= d.day
        ORDER BY c.effective_from DESC LIMIT 1
    ) AS cap
    WHERE extract(isodow FROM d.day) < 6
    GROUP BY u.user_id
"""


async def rows(session: AsyncSession, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in (await session.execute(text(sql), params)).mappings()]
