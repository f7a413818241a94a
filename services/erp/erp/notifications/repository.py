from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession


async def submitted_expenses(session: AsyncSession, not_by: str, levels: list[str],
                             limit: int) -> list[Row[Any]]:
    """Submitted expenses of others at the given approval levels, oldest submission first."""
    if not levels:
        return []
    result = await session.execute(text(
        "SELECT id, amount, currency, merchant, submitter_email, submitted_by, submitted_at, required_approval "
        "FROM expenses WHERE status = 'submitted' AND submitted_by <> :me AND required_approval = ANY(:levels) "
        "ORDER BY submitted_at, id LIMIT :limit"), {"me": not_by, "levels": levels, "limit": limit})
    return list(result.all())


async def overdue_invoices_owned_by(session: AsyncSession, owner_id: str, today: date, limit: int) -> list[Row[Any]]:
    """Issued invoices past their due date with a balance, on projects the user owns (a won deal's owner)."""
    result = await session.execute(text(
        "SELECT i.id, i.number, i.due_date, i.balance_due, i.currency, c.name AS client, i.issued_at "
        "FROM invoices i JOIN projects p ON p.id = i.project_id JOIN clients c ON c.id = i.client_id "
        "WHERE p.owner_id = :me AND i.kind = 'invoice' AND i.status IN ('issued', 'partially_paid') "
        "AND i.due_date < :today AND i.balance_due > 0 ORDER BY i.due_date, i.id LIMIT :limit"),
        {"me": owner_id, "today": today, "limit": limit})
    return list(result.all())


async def budget_alerts_owned_by(session: AsyncSession, owner_id: str, since: datetime,
                                 limit: int) -> list[Row[Any]]:
    """Budget thresholds reached since `since` on projects the user owns (their project manager), newest first."""
    result = await session.execute(text(
        "SELECT a.id, a.project_id, p.name AS project, p.currency, a.measure, a.threshold, a.budget, a.actual, "
        "a.reached_at FROM project_budget_alerts a JOIN projects p ON p.id = a.project_id "
        "WHERE p.owner_id = :me AND a.reached_at >= :since ORDER BY a.reached_at DESC, a.id LIMIT :limit"),
        {"me": owner_id, "since": since, "limit": limit})
    return list(result.all())


async def submitted_weeks_of_others(session: AsyncSession, not_of: str, limit: int) -> list[Row[Any]]:
    """Timesheet weeks waiting for approval, of people other than the user (nobody approves their own week), oldest
    submission first, with the person's name and the week's hours."""
    result = await session.execute(text(
        "SELECT w.id, w.person_id, coalesce(pe.name, w.person_id) AS person, w.week_start, w.submitted_at, "
        "(SELECT coalesce(sum(t.hours), 0) FROM time_entries t WHERE t.person_id = w.person_id "
        "AND t.work_date BETWEEN w.week_start AND w.week_start + 6) AS hours "
        "FROM timesheet_weeks w LEFT JOIN people pe ON pe.id = w.person_id "
        "WHERE w.status = 'submitted' AND w.person_id <> :me ORDER BY w.submitted_at, w.id LIMIT :limit"),
        {"me": not_of, "limit": limit})
    return list(result.all())
