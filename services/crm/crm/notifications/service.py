"""The CRM's notifications for one user, computed from what the events and requests left in its tables: a lead
assigned to them that nobody has worked yet (status new, owner = them), and each of their open tasks due within
the next day or overdue. Computed, not stored: a task completed or a lead reassigned leaves the list at once, and
nothing can be delivered twice (docs/decisions.md, 107). Reads only; the key of each item changes when what it
is about changes (a lead reassigned back, a task moved to another due time), so that it rings again."""

from datetime import UTC, datetime, timedelta

from crm.notifications import repository
from crm.notifications.schemas import Notification, NotificationList
from throughline_messaging.uow import UnitOfWork

LIMIT = 50
DUE_AHEAD = timedelta(days=1)


async def for_user(uow: UnitOfWork, user_id: str) -> NotificationList:
    items: list[Notification] = []
    for lead in await repository.new_leads_owned_by(uow.session, user_id, LIMIT):
        name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.company_name or lead.email \
            or "a lead"
        items.append(Notification(key=f"crm:lead-assigned:{lead.id}:{user_id}", kind="lead_assigned",
                                  title=f"Lead assigned to you: {name}",
                                  detail=lead.company_name if lead.company_name != name else None,
                                  link=f"#/leads/{lead.id}", at=lead.created_at))
    now = datetime.now(UTC)
    for task in await repository.open_tasks_due(uow.session, user_id, now + DUE_AHEAD, LIMIT):
        state = "overdue" if task.due_at < now else "due"
        items.append(Notification(key=f"crm:task-due:{task.id}:{task.due_at.isoformat()}", kind="task_due",
                                  title=f"Task {state}: {task.title}", detail=f"due {task.due_at:%Y-%m-%d %H:%M} UTC",
                                  link="#/tasks", at=task.due_at))
    return NotificationList(items=items)
