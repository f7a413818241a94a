"""Project budgets: what a project has burnt against its budget in hours and in money, the forecast at completion,
and the alerts when burn reaches a threshold, written in the transaction of the change that crossed it."""

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from erp.budgets.models import DEFAULT_THRESHOLDS, BudgetAlert, BudgetSettings, Measure
from erp.budgets.repository import BudgetRepository
from erp.budgets.schemas import (
    AlertOut,
    BudgetIn,
    BudgetOut,
    BurnFigures,
    PhaseFigures,
)
from erp.db import utcnow
from erp.projects.api import ProjectRepository
from erp.reports.api import percent
from throughline_events.erp import ProjectBudgetThresholdReachedV1
from throughline_events.money import check_amount, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import NotFound, Unprocessable

ZERO = Decimal(0)
HOURS = Decimal("0.01")


def _hours(value: Decimal) -> Decimal:
    return Decimal(value).quantize(HOURS)


def actual_cost(row: dict[str, Any]) -> Decimal:
    """Money burnt: cost of time plus approved expenses, in the project's currency."""
    return Decimal(row["cost_time"] or 0) + Decimal(row["cost_expenses"] or 0)


def _burn(budget: Decimal | None, actual: Decimal, unbilled: Decimal, invoiced: Decimal,
          booked: Decimal) -> BurnFigures:
    forecast = actual + booked
    return BurnFigures(budget=budget, actual=actual, unbilled=unbilled, invoiced=invoiced, booked_remaining=booked,
                       forecast_at_completion=forecast, burn_percent=percent(actual, budget),
                       forecast_percent=percent(forecast, budget))


async def figures(uow: UnitOfWork, project_id: uuid.UUID, today: date) -> BudgetOut:
    repo = BudgetRepository(uow.session)
    row = await repo.figures(project_id, today)
    if row is None:
        raise NotFound(f"Project {project_id} does not exist.")
    currency = row["currency"]
    booked_hours, booked_cost = Decimal(row["booked_hours"]), Decimal(row["booked_cost"] or 0)

    def money(value: Decimal | None) -> Decimal:
        return round_money(Decimal(value or 0), currency)

    hours = _burn(row["budget_hours"], _hours(row["actual_hours"]), _hours(row["unbilled_hours"]),
                  _hours(row["invoiced_hours"]), _hours(booked_hours))
    spent = _burn(money(row["budget_amount"]), money(actual_cost(row)),
                  money(Decimal(row["unbilled_time_value"] or 0) + Decimal(row["unbilled_expenses"] or 0)),
                  money(row["invoiced"]), money(booked_cost))
    phases = [PhaseFigures(**p | {"budget": money(p["budget"]), "invoiced": money(p["invoiced"])})
              for p in row["phases"]]
    return BudgetOut(
        project_id=project_id, currency=currency, thresholds=row["thresholds"] or list(DEFAULT_THRESHOLDS),
        hours=hours, money=spent, unpriced_hours=_hours(row["unpriced_hours"]),
        unrated_hours=_hours(row["unrated_hours"]), unconverted_expenses=int(row["unconverted_expenses"]),
        phases=phases, alerts=[AlertOut.model_validate(a) for a in row["alerts"]])


async def set_budget(uow: UnitOfWork, project_id: uuid.UUID, body: BudgetIn, today: date) -> BudgetOut:
    """Set the budget and thresholds; a budget lowered below what is already burnt alerts at once."""
    project = await ProjectRepository(uow.session).get(project_id, for_update=True)
    if project is None:
        raise NotFound(f"Project {project_id} does not exist.")
    changes = body.model_dump(exclude_unset=True)
    if "budget_amount" in changes:
        if body.budget_amount is None:
            raise Unprocessable("budget_amount cannot be null: 0 means no money budget.")
        try:
            project.budget_amount = check_amount(body.budget_amount, project.currency, field="budget_amount")
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
    if "budget_hours" in changes:
        project.budget_hours = body.budget_hours
    if "thresholds" in changes:
        if body.thresholds is None:
            raise Unprocessable("thresholds cannot be null: send the list (the default is [50, 80, 100]).")
        repo = BudgetRepository(uow.session)
        settings = await repo.settings(project_id)
        if settings is None:
            repo.add(BudgetSettings(project_id=project_id, thresholds=body.thresholds))
        else:
            settings.thresholds = body.thresholds
    await check_thresholds(uow, [project_id])
    await uow.commit()
    return await figures(uow, project_id, today)


async def check_thresholds(uow: UnitOfWork, project_ids: Iterable[uuid.UUID]) -> None:
    """Record an alert, and its project.budget_threshold_reached, for each threshold the projects' burn has reached
    against their current budget and not yet alerted. Called by every writer of burn (time entries written,
    expenses approved, the budget itself) before it commits: the alert is part of the change."""
    ids = sorted(set(project_ids))
    if not ids:
        return
    await uow.session.flush()  # the rollup the actuals read is kept by triggers on the flushed rows
    repo = BudgetRepository(uow.session)
    await repo.lock(ids)  # in one order: no deadlock between two writers
    now = utcnow()
    for row in await repo.burn(ids):  # read after the locks: a check that held one has committed
        project_id = row["id"]
        reached = {(a["measure"], a["threshold"], Decimal(a["budget"])) for a in row["reached"]}
        thresholds = row["thresholds"] or list(DEFAULT_THRESHOLDS)
        for measure, budget, actual, currency in (
                (Measure.HOURS, row["budget_hours"], _hours(row["actual_hours"]), None),
                (Measure.MONEY, row["budget_amount"], round_money(actual_cost(row), row["currency"]),
                 row["currency"])):
            if not budget:
                continue
            for threshold in thresholds:
                if actual * 100 < budget * threshold or (measure, threshold, budget) in reached:
                    continue
                alert = BudgetAlert(id=uuid.uuid4(), project_id=project_id, measure=measure, threshold=threshold,
                                    budget=budget, actual=actual, reached_at=now)
                repo.add(alert)
                alert.record(ProjectBudgetThresholdReachedV1(
                    project_id=project_id, project_name=row["name"], owner_id=row["owner_id"], measure=measure,
                    threshold_percent=threshold, budget=budget, actual=actual, currency=currency, reached_at=now))
