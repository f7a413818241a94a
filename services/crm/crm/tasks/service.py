"""Follow-up rules: a task is due at a moment and assigned to someone; complete and reopen are explicit; the
due lists split a user's open tasks into overdue, due today (in the user's time zone) and upcoming."""

import uuid
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from crm.automation.api import CREATED_BY, Links, RuleTask
from crm.companies.api import CompanyRepository, ContactRepository
from crm.db import utcnow
from crm.deals.api import DealRepository
from crm.leads.api import LeadRepository
from crm.tasks.models import Task, TaskStatus
from crm.tasks.repository import TaskRepository
from crm.tasks.schemas import TaskIn
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable


async def create_task(uow: UnitOfWork, data: TaskIn, *, created_by: str) -> Task:
    session = uow.session
    for field, repo_get in (("company_id", CompanyRepository(session).get),
                            ("contact_id", ContactRepository(session).get),
                            ("deal_id", DealRepository(session).get), ("lead_id", LeadRepository(session).get)):
        value = getattr(data, field)
        if value is not None and await repo_get(value) is None:
            raise Unprocessable(f"{field}: {field[:-3]} {value} does not exist.")
    now = utcnow()
    task = Task(id=uuid.uuid4(), status=TaskStatus.OPEN, created_by=created_by, created_at=now, updated_at=now,
                **{**data.model_dump(), "assignee_id": data.assignee_id or created_by})
    TaskRepository(session).add(task)
    await uow.commit()
    return task



def add_rule_task(session: AsyncSession, task: RuleTask) -> None:
    """Add the follow-up of an automation rule's create_task action (the engine's port `add_rule_task`). Its
    links come from the record the rule fired on, so they are not checked again."""
    TaskRepository(session).add(Task(
        id=uuid.uuid4(), title=task.title, description=task.description, due_at=task.due_at,
        assignee_id=task.assignee_id, status=TaskStatus.OPEN, created_by=CREATED_BY, automation_rule_id=task.rule_id,
        company_id=task.links.company_id, contact_id=task.links.contact_id, deal_id=task.links.deal_id,
        lead_id=task.links.lead_id, created_at=task.created_at, updated_at=task.created_at))


def add_step_task(session: AsyncSession, *, task_id: uuid.UUID, title: str, due_at: datetime, assignee_id: str,
                  links: Links, created_by: str, created_at: datetime) -> None:
    """Add the follow-up of a sequence's task step (the owner's: call them, connect on LinkedIn). Its links come
    from the enrolment, so they are not checked again."""
    TaskRepository(session).add(Task(
        id=task_id, title=title[:200], description=None, due_at=due_at, assignee_id=assignee_id,
        status=TaskStatus.OPEN, created_by=created_by, company_id=links.company_id, contact_id=links.contact_id,
        deal_id=links.deal_id, lead_id=links.lead_id, created_at=created_at, updated_at=created_at))


async def get_task(uow: UnitOfWork, task_id: uuid.UUID, *, for_update: bool = False) -> Task:
    task = await TaskRepository(uow.session).get(task_id, for_update=for_update)
    if task is None:
        raise NotFound(f"Task {task_id} does not exist.")
    return task


async def update_task(uow: UnitOfWork, task_id: uuid.UUID, changes: dict[str, Any]) -> Task:
    task = await get_task(uow, task_id, for_update=True)
    for required in ("title", "due_at", "assignee_id"):
        if required in changes and changes[required] is None:
            raise Unprocessable(f"{required}: cannot be cleared.")
    for field, value in changes.items():
        setattr(task, field, value)
    task.updated_at = utcnow()
    await uow.commit()
    return task


async def complete_task(uow: UnitOfWork, task_id: uuid.UUID, by: str) -> Task:
    task = await get_task(uow, task_id, for_update=True)
    if task.status == TaskStatus.DONE:
        raise Conflict("The task is done already.", type_slug="task-done")
    task.status = TaskStatus.DONE
    task.completed_at = task.updated_at = utcnow()
    task.completed_by = by
    await uow.commit()
    return task


async def reopen_task(uow: UnitOfWork, task_id: uuid.UUID) -> Task:
    task = await get_task(uow, task_id, for_update=True)
    if task.status == TaskStatus.OPEN:
        raise Conflict("The task is open already.", type_slug="task-open")
    task.status = TaskStatus.OPEN
    task.completed_at = None
    task.completed_by = None
    task.updated_at = utcnow()
    await uow.commit()
    return task


def zone(name: str) -> tzinfo:
    if name.upper() in ("UTC", "Z"):
        return UTC  # needs no time zone database
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unprocessable(f"tz: {name!r} is not an IANA time zone (e.g. Europe/Berlin).") from None


async def due_lists(uow: UnitOfWork, assignee_id: str, tz: tzinfo, days: int,
                    now: datetime | None = None) -> tuple[datetime, list[Task], list[Task], list[Task]]:
    now = now or utcnow()
    local_today = now.astimezone(tz).date()
    end_of_today = datetime.combine(local_today + timedelta(days=1), time(0), tzinfo=tz)
    horizon = datetime.combine(local_today + timedelta(days=days + 1), time(0), tzinfo=tz)
    repo = TaskRepository(uow.session)
    overdue = await repo.open_due_between(assignee_id, None, now, 200)
    today = await repo.open_due_between(assignee_id, now, end_of_today, 200)
    upcoming = await repo.open_due_between(assignee_id, end_of_today, horizon, 200)
    return now, overdue, today, upcoming
