import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from erp.projects.repository import ProjectRepository
from erp.projects.schemas import BillingScheduleOut, ProjectIn, ProjectOut, ProjectPage, ProjectPatch
from erp.projects.service import create_project, update_project
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.auth import require_roles
from throughline_platform.deps import CurrentPrincipal
from throughline_platform.problems import NotFound

router = APIRouter(prefix="/api/erp/projects", tags=["projects"])


@router.get("", response_model=ProjectPage,
            summary="Projects, filterable by deal, client, cost center and status")
async def list_projects(uow: ReadUoW, principal: CurrentPrincipal, deal_id: uuid.UUID | None = None,
                        client_id: uuid.UUID | None = None, cost_center_id: uuid.UUID | None = None,
                        status: Literal["active", "on_hold", "completed", "cancelled"] | None = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50,
                        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ProjectPage:
    items, total = await ProjectRepository(uow.session).search(
        deal_id=deal_id, client_id=client_id, status=status, limit=limit, offset=offset,
        cost_center_id=cost_center_id)
    return ProjectPage(items=[ProjectOut.model_validate(p) for p in items], total=total, limit=limit, offset=offset)


@router.post("", response_model=ProjectOut, status_code=201,
             summary="Create a project by hand (project_manager, finance)")
async def post_project(body: ProjectIn, uow: UoW, principal: CurrentPrincipal) -> ProjectOut:
    require_roles(principal, "project_manager", "finance")
    return ProjectOut.model_validate(await create_project(uow, body))


@router.patch("/{project_id}", response_model=ProjectOut,
              summary="Change a project's status, budget, cost center, name or owner (project_manager, finance)")
async def patch_project(project_id: uuid.UUID, body: ProjectPatch, uow: UoW,
                        principal: CurrentPrincipal) -> ProjectOut:
    require_roles(principal, "project_manager", "finance")
    return ProjectOut.model_validate(await update_project(uow, project_id, body))


@router.get("/{project_id}", response_model=ProjectOut, summary="One project")
async def get_project(project_id: uuid.UUID, uow: ReadUoW, principal: CurrentPrincipal) -> ProjectOut:
    project = await ProjectRepository(uow.session).get(project_id)
    if project is None:
        raise NotFound(f"Project {project_id} does not exist.")
    return ProjectOut.model_validate(project)


@router.get("/{project_id}/billing-schedule", response_model=BillingScheduleOut,
            summary="The project's billing schedule and its items")
async def get_billing_schedule(project_id: uuid.UUID, uow: ReadUoW, principal: CurrentPrincipal) -> BillingScheduleOut:
    schedule = await ProjectRepository(uow.session).schedule_of(project_id)
    if schedule is None:
        raise NotFound(f"Project {project_id} has no billing schedule.")
    return BillingScheduleOut.model_validate(schedule)
