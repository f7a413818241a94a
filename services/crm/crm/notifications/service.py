"""The CRM's notifications for one user, computed from what the events and requests left in its tables: a lead
assigned to them that nobody has worked yet (status new, owner = them), and each of their open tasks due within
the next day or overdue. Computed, not stored: a task completed or a lead reassigned leaves the list at once, and
nothing can be delivered twice (docs/decisions.md, 107). Reads only; the key of each item changes when what it
is about changes (a lead reassigned back, a task moved to another due time), so that it rings again."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from crm.notifications.schemas import Notification, NotificationList
from throughline_messaging.uow import UnitOfWork

LIMIT = 50
DUE_AHEAD = timedelta(days=1)


async def for_user(uow: UnitOfWork, user_id: str) -> NotificationList:
    session = uow.session
    items: list[Notification] = []
    leads = await session.execute(text(
        "SELECT id, first_name, last_name, company_name, email, created_at FROM leads "
        "WHERE owner_id = :me AND status = 'new' AND deleted_at IS NULL ORDER BY created_at DESC LIMIT :limit"),
        {"me": user_id, "limit": LIMIT})
    for lead_id, first, last, company, email, created_at in leads.tuples():
        name = " ".join(p for p in (first, last) if p) or company or email or "a lead"
        items.append(Notification(key=f"crm:lead-assigned:{lead_id}:{user_id}", kind="lead_assigned",
                                  title=f"Lead assigned to you: {name}", detail=company if company != name else None,
                                  link=f"#/leads/{lead_id}", at=created_at))
    until = datetime.now(UTC) + DUE_AHEAD
    tasks = await session.execute(text(
        "SELECT id, title, due_at FROM tasks WHERE assignee_id = :me AND status = 'open' AND due_at <= :until "
        "ORDER BY due_at LIMIT :limit"), {"me": user_id, "until": until, "limit": LIMIT})
    now = datetime.now(UTC)
    for task_id, title, due_at in tasks.tuples():
        state = "overdue" if due_at < now else "due"
        items.append(Notification(key=f"crm:task-due:{task_id}:{due_at.isoformat()}", kind="task_due",
                                  title=f"Task {state}: {title}", detail=f"due {due_at:%Y-%m-%d %H:%M} UTC",
                                  link="#/tasks", at=due_at))
    return NotificationList(items=items)
