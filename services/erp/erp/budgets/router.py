import uuid

from fastapi import APIRouter

from erp.budgets import efficiency, service
from erp.budgets.schemas import BudgetIn, BudgetOut, EfficiencyReport
from erp.clock import today
from erp.policy import BudgetWriter, EfficiencyReader, Reader
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp/projects", tags=["budgets"])


@router.get("/{project_id}/budget", response_model=BudgetOut,
            summary="A project's budget and burn in hours and money: budget, actual, unbilled, invoiced, forecast at "
                    "completion; its phases and the alert thresholds reached",
            responses=problem_responses(404))
async def get_budget(project_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> BudgetOut:
    return await service.figures(uow, project_id, today())


@router.put("/{project_id}/budget", response_model=BudgetOut,
            summary="Set a project's budget in hours and money and its alert thresholds (project_manager, finance)",
            responses=problem_responses(404))
async def put_budget(project_id: uuid.UUID, body: BudgetIn, uow: UoW, principal: BudgetWriter) -> BudgetOut:
    return await service.set_budget(uow, project_id, body, today())


efficiency_router = APIRouter(prefix="/api/erp/reports", tags=["reports"])


@efficiency_router.get(
    "/department-efficiency", response_model=EfficiencyReport,
    summary="Per department or cost center over a period: revenue, direct cost, margin, billable utilisation, "
            "revenue per billable hour, effective rate vs list rate (finance)")
async def department_efficiency(uow: UoW, principal: EfficiencyReader, date_from: BusinessDate | None = None,
                                date_to: BusinessDate | None = None,
                                group_by: efficiency.GroupBy = "cost_center") -> EfficiencyReport:
    """By department, each project's revenue and cost are shared out by its people's hours (decision 212)."""
    end = date_to or today()
    return await efficiency.department_efficiency(uow, group_by=group_by, date_from=date_from or end.replace(day=1),
                                                  date_to=end)
