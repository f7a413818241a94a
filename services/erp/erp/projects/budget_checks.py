"""Who re-checks a project's budget alerts when its budget changes through the project itself
(`PATCH /api/erp/projects/{id}` with `budget_amount` or `budget_hours`).

The budgets package owns the thresholds and their alerts, and it sits above the projects package (it reads the
project), so the projects package cannot call it. As with `erp.invoices.billed_work`, this package defines the
interface and the composition root (`erp.app.create_app`) registers the budgets' check, which runs in the PATCH's
transaction before its commit: a budget lowered below what is already burnt alerts with the change that lowered it,
as `PUT /projects/{id}/budget` does (decision 203)."""

import uuid
from typing import Protocol

from throughline_messaging.uow import UnitOfWork


class CheckBudget(Protocol):
    """Records the alerts the projects' burn has reached against their budgets, in the caller's transaction."""

    async def __call__(self, uow: UnitOfWork, project_ids: list[uuid.UUID]) -> None: ...


class BudgetChecks:
    def __init__(self) -> None:
        self._checks: list[CheckBudget] = []

    def register(self, check: CheckBudget) -> None:
        """Once per check: registering the same one again (a second app in one process) changes nothing."""
        if check not in self._checks:
            self._checks.append(check)

    async def budget_changed(self, uow: UnitOfWork, project_id: uuid.UUID) -> None:
        if not self._checks:
            # A process that changes budgets without the composition root's wiring would miss alerts.
            raise RuntimeError("No budget check is registered: erp.app.create_app registers it.")
        for check in self._checks:
            await check(uow, [project_id])


BUDGET_CHECKS = BudgetChecks()
