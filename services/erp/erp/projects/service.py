"""Projects: entered by hand here, or made from won deals by the intake (`erp.intake`) with their billing schedule."""

import uuid
from datetime import datetime
from decimal import Decimal

from erp.clients.api import Client, ClientRepository
from erp.cost_centers.api import usable_cost_center
from erp.db import utcnow
from erp.policy import POLICY, Action
from erp.projects.budget_checks import BUDGET_CHECKS
from erp.projects.models import BudgetLine, Project, ProjectStatus
from erp.projects.repository import ProjectRepository
from erp.projects.schemas import ProjectIn, ProjectPatch
from throughline_events.crm import WonLine
from throughline_events.erp import ProjectCreatedV1, ScheduleItemRef
from throughline_events.money import check_amount, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, Forbidden, NotFound, Unprocessable

# The billing type project.created names for a project entered by hand: it has no billing schedule.
NO_SCHEDULE = "none"

# Which status a project may move to from each status (the same status is a no-op).
TRANSITIONS: dict[str, frozenset[ProjectStatus]] = {
    ProjectStatus.ACTIVE: frozenset({ProjectStatus.ON_HOLD, ProjectStatus.COMPLETED, ProjectStatus.CANCELLED}),
    ProjectStatus.ON_HOLD: frozenset({ProjectStatus.ACTIVE, ProjectStatus.COMPLETED, ProjectStatus.CANCELLED}),
    ProjectStatus.COMPLETED: frozenset({ProjectStatus.ACTIVE}),  # reopened for late work
    ProjectStatus.CANCELLED: frozenset(),
}


def project_created(*, project_id: uuid.UUID, name: str, deal_id: uuid.UUID | None, company_id: uuid.UUID | None,
                    client_id: uuid.UUID, budget: Decimal, currency: str, owner_id: str | None, billing_type: str,
                    schedule: list[ScheduleItemRef], now: datetime) -> ProjectCreatedV1:
    return ProjectCreatedV1(
        project_id=project_id, name=name, deal_id=deal_id, company_id=company_id, client_id=client_id,
        budget=budget, currency=currency, owner_id=owner_id, billing_type=billing_type, schedule=schedule,
        created_at=now,
    )


def budget_line_rows(project_id: uuid.UUID, lines: list[WonLine], currency: str,
                     now: datetime) -> list[dict[str, object]]:
    """The budget lines of a project won on a quote (deal.won's `lines`), as rows, in the quote's order."""
    return [{"id": uuid.uuid4(), "project_id": project_id, "position": n, "description": line.description[:500],
             "quantity": line.quantity, "unit": line.unit[:20], "unit_price": round_money(line.unit_price, currency),
             "amount": round_money(line.amount, currency), "created_at": now, "updated_at": now}
            for n, line in enumerate(lines, start=1)]


async def budget_lines(uow: UnitOfWork, project_id: uuid.UUID) -> list[BudgetLine]:
    await get_project(uow, project_id)
    return await ProjectRepository(uow.session).budget_lines(project_id)


def record_created(project: Project, client: Client, billing_type: str, schedule: list[ScheduleItemRef],
                   now: datetime) -> None:
    """The project's project.created, sent when the unit of work commits."""
    project.record(project_created(
        project_id=project.id, name=project.name, deal_id=project.deal_id, company_id=client.crm_company_id,
        client_id=client.id, budget=project.budget_amount, currency=project.currency, owner_id=project.owner_id,
        billing_type=billing_type, schedule=schedule, now=now,
    ))


async def get_project(uow: UnitOfWork, project_id: uuid.UUID) -> Project:
    project = await ProjectRepository(uow.session).get(project_id)
    if project is None:
        raise NotFound(f"Project {project_id} does not exist.")
    return project


def reads_every_project(principal: Principal) -> bool:
    """Whether the caller reads every project (erp.read), or only those they work on (a member)."""
    return POLICY.allows(principal.role, Action.READ)


async def get_visible_project(uow: UnitOfWork, project_id: uuid.UUID, principal: Principal) -> Project:
    """The project, if the caller may read it: anyone with erp.read; a member only one they have logged time on."""
    project = await get_project(uow, project_id)
    if not reads_every_project(principal) and not await ProjectRepository(uow.session).worked_on(
            project_id, principal.user_id):
        raise Forbidden("A member reads the projects they work on only.", type_slug="not-your-project")
    return project


async def create_project(uow: UnitOfWork, body: ProjectIn) -> Project:
    client = await ClientRepository(uow.session).get(body.client_id)
    if client is None:
        raise Unprocessable(f"Client {body.client_id} does not exist.", type_slug="unknown-client")
    currency = body.currency or client.currency
    if currency is None:
        raise Unprocessable("currency is required: the client has no default currency.")
    try:
        budget = check_amount(body.budget_amount, currency, field="budget_amount")
    except ValueError as exc:
        raise Unprocessable(str(exc)) from None
    if body.cost_center_id is not None:
        await usable_cost_center(uow, body.cost_center_id)
    project = Project(id=uuid.uuid4(), name=body.name, client_id=client.id, deal_id=None, owner_id=body.owner_id,
                      status=body.status, budget_amount=budget, budget_hours=body.budget_hours, currency=currency,
                      cost_center_id=body.cost_center_id)
    ProjectRepository(uow.session).add(project)
    record_created(project, client, NO_SCHEDULE, [], now=utcnow())
    await uow.commit()
    return project


async def update_project(uow: UnitOfWork, project_id: uuid.UUID, body: ProjectPatch) -> Project:
    project = await ProjectRepository(uow.session).get(project_id, for_update=True)
    if project is None:
        raise NotFound(f"Project {project_id} does not exist.")
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "status", "budget_amount"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"{field} cannot be null.")
    status = changes.get("status")
    if status is not None and status != project.status and status not in TRANSITIONS[project.status]:
        raise Conflict(f"A {project.status} project cannot become {status}.", type_slug="invalid-transition")
    if "budget_amount" in changes:
        try:
            changes["budget_amount"] = check_amount(changes["budget_amount"], project.currency, field="budget_amount")
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
    if changes.get("cost_center_id") is not None and changes["cost_center_id"] != project.cost_center_id:
        await usable_cost_center(uow, changes["cost_center_id"])
    budget_changed = any(field in changes and changes[field] != getattr(project, field)
                         for field in ("budget_amount", "budget_hours"))
    for field, value in changes.items():
        setattr(project, field, value)
    if budget_changed:
        await BUDGET_CHECKS.budget_changed(uow, project.id)  # the budgets' alerts, in this transaction
    await uow.commit()
    return project
