import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from erp.policy import ProjectWriter, Reader, WorkReader
from erp.projects import service
from erp.projects.models import ProjectStatus
from erp.projects.repository import ProjectRepository
from erp.projects.schemas import BudgetLineOut, ProjectIn, ProjectOut, ProjectPage, ProjectPatch
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp/projects", tags=["projects"])


@router.get("", response_model=ProjectPage,
            summary="Projects, filterable by deal, client, cost center and status (a member's: those they work on)")
async def list_projects(uow: ReadUoW, principal: WorkReader, deal_id: uuid.UUID | None = None,
                        client_id: uuid.UUID | None = None, cost_center_id: uuid.UUID | None = None,
                        status: ProjectStatus | None = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50,
                        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ProjectPage:
    items, total = await ProjectRepository(uow.session).search(
        deal_id=deal_id, client_id=client_id, status=status, limit=limit, offset=offset,
        cost_center_id=cost_center_id,
        worked_on_by=None if service.reads_every_project(principal) else principal.user_id)
    return ProjectPage(items=[ProjectOut.model_validate(p) for p in items], total=total, limit=limit, offset=offset)


@router.post("", response_model=ProjectOut, status_code=201,
             summary="Create a project by hand (project_manager, finance)")
async def post_project(body: ProjectIn, uow: UoW, principal: ProjectWriter) -> ProjectOut:
    return ProjectOut.model_validate(await service.create_project(uow, body))


@router.patch("/{project_id}", response_model=ProjectOut,
              summary="Change a project's status, budget, cost center, name or owner (project_manager, finance)",
              responses=problem_responses(409, _409="The status cannot move that way (a cancelled project is final)"))
async def patch_project(project_id: uuid.UUID, body: ProjectPatch, uow: UoW,
                        principal: ProjectWriter) -> ProjectOut:
    return ProjectOut.model_validate(await service.update_project(uow, project_id, body))


@router.get("/{project_id}", response_model=ProjectOut, summary="One project")
async def get_project(project_id: uuid.UUID, uow: ReadUoW, principal: WorkReader) -> ProjectOut:
    return ProjectOut.model_validate(await service.get_visible_project(uow, project_id, principal))


@router.get("/{project_id}/budget-lines", response_model=list[BudgetLineOut],
            summary="The project's budget lines: the lines of the quote its deal was won on (none for other projects)",
            responses=problem_responses(404))
async def get_budget_lines(project_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> list[BudgetLineOut]:
    project = await service.get_project(uow, project_id)
    lines = await service.budget_lines(uow, project_id)
    return [BudgetLineOut.model_validate(line).in_currency(project.currency) for line in lines]
