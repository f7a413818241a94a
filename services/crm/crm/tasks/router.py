import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from crm.policy import Reader, TaskWriter
from crm.tasks import service
from crm.tasks.repository import TaskRepository
from crm.tasks.schemas import DueLists, TaskIn, TaskOut, TaskPage, TaskPatch, TaskStatusName
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/crm/tasks", tags=["tasks"])


@router.post("", status_code=201, response_model=TaskOut, summary="Create a follow-up task")
async def create_task(body: TaskIn, uow: UoW, principal: TaskWriter) -> TaskOut:
    return TaskOut.model_validate(await service.create_task(uow, body, created_by=principal.user_id))


@router.get("", response_model=TaskPage, summary="Tasks by due date, with filters")
async def list_tasks(uow: ReadUoW, principal: Reader,
                     assignee_id: Annotated[str | None, Query(max_length=64)] = None,
                     status: TaskStatusName | None = None, company_id: uuid.UUID | None = None,
                     contact_id: uuid.UUID | None = None, deal_id: uuid.UUID | None = None,
                     lead_id: uuid.UUID | None = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> TaskPage:
    items, total = await TaskRepository(uow.session).search(
        assignee_id=assignee_id, status=status, company_id=company_id, contact_id=contact_id, deal_id=deal_id,
        lead_id=lead_id, due_from=None, due_to=None, limit=limit, offset=offset)
    return TaskPage(items=[TaskOut.model_validate(t) for t in items], total=total, limit=limit, offset=offset)


@router.get("/due", response_model=DueLists, summary="A user's open tasks: overdue, due today, upcoming")
async def due(uow: ReadUoW, principal: Reader,
              assignee_id: Annotated[str | None, Query(max_length=64, description="Default: the caller")] = None,
              tz: Annotated[str, Query(max_length=64, description="IANA time zone that defines 'today'")] = "UTC",
              days: Annotated[int, Query(ge=1, le=90, description="How far 'upcoming' looks ahead")] = 7) -> DueLists:
    who = assignee_id or principal.user_id
    zone = service.zone(tz)
    now, overdue, today, upcoming = await service.due_lists(uow, who, zone, days)
    return DueLists(assignee_id=who, as_of=now, timezone=tz, overdue=[TaskOut.model_validate(t) for t in overdue],
                    today=[TaskOut.model_validate(t) for t in today],
                    upcoming=[TaskOut.model_validate(t) for t in upcoming])


@router.get("/{task_id}", response_model=TaskOut, summary="One task")
async def get_task(task_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> TaskOut:
    return TaskOut.model_validate(await service.get_task(uow, task_id))


@router.patch("/{task_id}", response_model=TaskOut, summary="Change a task's title, due time or assignee")
async def update_task(task_id: uuid.UUID, body: TaskPatch, uow: UoW, principal: TaskWriter) -> TaskOut:
    return TaskOut.model_validate(await service.update_task(uow, task_id, body.model_dump(exclude_unset=True)))


@router.post("/{task_id}/complete", response_model=TaskOut, summary="Mark a task done",
             responses=problem_responses(409, _409="The task is done already"))
async def complete_task(task_id: uuid.UUID, uow: UoW, principal: TaskWriter) -> TaskOut:
    return TaskOut.model_validate(await service.complete_task(uow, task_id, principal.user_id))


@router.post("/{task_id}/reopen", response_model=TaskOut, summary="Reopen a done task",
             responses=problem_responses(409, _409="The task is open already"))
async def reopen_task(task_id: uuid.UUID, uow: UoW, principal: TaskWriter) -> TaskOut:
    return TaskOut.model_validate(await service.reopen_task(uow, task_id))
