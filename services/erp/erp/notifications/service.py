"""The ERP's notifications for one user, computed from its tables: submitted expenses of others the caller's role
may decide (at the expense's approval level, as `erp.expenses` decides it), others' timesheet weeks waiting for
approval when the caller's role approves weeks (decision 204), overdue invoices on the projects they
own (a project's owner is its won deal's owner, from the deal.won event), and the budget thresholds those projects
reached lately (erp.budgets). Computed, not stored: an expense decided or an invoice paid leaves the list at once
(docs/decisions.md, 107)."""

from datetime import UTC, datetime, time, timedelta

from erp.clock import today
from erp.expenses.api import DECIDERS
from erp.notifications import repository
from erp.notifications.schemas import Notification, NotificationList
from erp.policy import POLICY, Action
from throughline_events.money import round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal

LIMIT = 50
# A budget alert stays in its project manager's list this long (marked read or not): it is news, not a task that
# leaves once done; the project page keeps every alert (docs/decisions.md, 133).
BUDGET_ALERTS_SHOWN = timedelta(days=30)


async def for_user(uow: UnitOfWork, principal: Principal) -> NotificationList:
    items: list[Notification] = []
    levels = [str(level) for level, action in DECIDERS.items() if POLICY.allows(principal.role, action)]
    for row in await repository.submitted_expenses(uow.session, principal.user_id, levels, LIMIT):
        amount = f"{round_money(row.amount, row.currency)} {row.currency}"
        who = row.submitter_email or row.submitted_by
        items.append(Notification(
            key=f"erp:expense-approve:{row.id}:{row.submitted_at.isoformat()}", kind="expense_to_approve",
            title=f"Expense to approve: {amount}" + (f" at {row.merchant}" if row.merchant else ""),
            detail=f"submitted by {who}", link="#/expenses", at=row.submitted_at))
    if POLICY.allows(principal.role, Action.TIMESHEETS_APPROVE):
        for row in await repository.submitted_weeks_of_others(uow.session, principal.user_id, LIMIT):
            year, week, _ = row.week_start.isocalendar()
            items.append(Notification(
                key=f"erp:week-approve:{row.id}:{row.submitted_at.isoformat()}", kind="week_to_approve",
                title=f"Week {year}-W{week:02d} to approve: {row.person}",
                detail=f"{row.hours.normalize():f} h submitted", link="#/approvals", at=row.submitted_at))
    now = today()
    for row in await repository.overdue_invoices_owned_by(uow.session, principal.user_id, now, LIMIT):
        days = (now - row.due_date).days
        items.append(Notification(
            key=f"erp:invoice-overdue:{row.id}", kind="invoice_overdue",
            title=f"Invoice {row.number} overdue: {row.client}",
            detail=f"{round_money(row.balance_due, row.currency)} {row.currency} open, {days} days past due",
            link=f"#/invoices/{row.id}", at=datetime.combine(row.due_date, time(), tzinfo=UTC)))
    since = datetime.combine(now - BUDGET_ALERTS_SHOWN, time(), tzinfo=UTC)
    for row in await repository.budget_alerts_owned_by(uow.session, principal.user_id, since, LIMIT):
        if row.measure == "hours":
            burnt = f"{row.actual.normalize():f} h of {row.budget.normalize():f} h"
        else:
            burnt = (f"{round_money(row.actual, row.currency)} of {round_money(row.budget, row.currency)} "
                     f"{row.currency} (cost of time and expenses)")
        items.append(Notification(
            key=f"erp:budget-threshold:{row.id}", kind="budget_threshold",
            title=f"{row.project}: {row.threshold} % of the {row.measure} budget reached",
            detail=f"{burnt} burnt", link=f"#/projects/{row.project_id}", at=row.reached_at))
    return NotificationList(items=items)
