"""Projects: from a won deal (with its billing schedule) or by hand."""

import uuid
from datetime import datetime
from decimal import Decimal

from erp.billing.models import BillingSchedule, ScheduleItem
from erp.billing.schedule import PlannedSchedule, plan_schedule
from erp.clients.models import Client
from erp.clients.replica import client_for_company
from erp.clients.repository import ClientRepository
from erp.cost_centers.repository import CostCenterRepository
from erp.cost_centers.service import usable_cost_center
from erp.db import utcnow
from erp.projects.models import Project
from erp.projects.repository import ProjectRepository
from erp.projects.schemas import ProjectIn, ProjectPatch
from throughline_events.crm import DealWonV1
from throughline_events.erp import ProjectCreatedV1, ScheduleItemRef
from throughline_events.money import check_amount, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable


async def project_from_won_deal(uow: UnitOfWork, won: DealWonV1) -> Project:
    """Create the project and its schedule for a won deal; a deal that already has one is left alone."""
    projects = ProjectRepository(uow.session)
    existing = await projects.by_deal(won.deal_id)
    if existing is not None:
        return existing
    client = await client_for_company(ClientRepository(uow.session), won.company.id, won.company.name, won.won_at)
    plan = plan_schedule(won.billing, won.amount, won.currency, won.won_at.date())
    project = Project(
        id=uuid.uuid4(), name=won.title, client_id=client.id, deal_id=won.deal_id, owner_id=won.owner_id,
        status="active", budget_amount=round_money(won.amount, won.currency), currency=won.currency,
    )
    projects.add(project)
    await uow.session.flush()  # the schedule's foreign key needs the project row
    projects.add_schedule(_schedule(project, plan, won.billing.model_dump(mode="json") if won.billing else None))
    _record_created(project, client, plan, now=utcnow())
    return project


def _schedule(project: Project, plan: PlannedSchedule, terms: dict[str, object] | None) -> BillingSchedule:
    return BillingSchedule(
        id=uuid.uuid4(), project_id=project.id, billing_type=plan.billing_type, currency=project.currency,
        total=schedule_total(plan, project.budget_amount), hourly_rate=plan.hourly_rate, cap=plan.cap, terms=terms,
        items=[ScheduleItem(id=uuid.uuid4(), position=n, label=i.label, due_date=i.due_date, amount=i.amount,
                            status="pending") for n, i in enumerate(plan.items, start=1)],
    )


def schedule_total(plan: PlannedSchedule, budget: Decimal) -> Decimal:
    """What the schedule bills in all: its items, or the budget when nothing is billed up front."""
    return sum((i.amount for i in plan.items), Decimal(0)) if plan.items else budget


def _record_created(project: Project, client: Client, plan: PlannedSchedule, now: datetime) -> None:
    project.record(project_created(
        project_id=project.id, name=project.name, deal_id=project.deal_id, company_id=client.crm_company_id,
        client_id=client.id, budget=project.budget_amount, currency=project.currency, owner_id=project.owner_id,
        plan=plan, now=now,
    ))


def project_created(*, project_id: uuid.UUID, name: str, deal_id: uuid.UUID | None, company_id: uuid.UUID | None,
                    client_id: uuid.UUID, budget: Decimal, currency: str, owner_id: str | None,
                    plan: PlannedSchedule, now: datetime) -> ProjectCreatedV1:
    return ProjectCreatedV1(
        project_id=project_id, name=name, deal_id=deal_id, company_id=company_id, client_id=client_id,
        budget=budget, currency=currency, owner_id=owner_id, billing_type=plan.billing_type,
        schedule=[ScheduleItemRef(label=i.label, due_date=i.due_date, amount=i.amount) for i in plan.items],
        created_at=now,
    )


# Which status a project may move to from each status (the same status is a no-op).
TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"on_hold", "completed", "cancelled"}),
    "on_hold": frozenset({"active", "completed", "cancelled"}),
    "completed": frozenset({"active"}),  # reopened for late work
    "cancelled": frozenset(),
}


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
        await usable_cost_center(CostCenterRepository(uow.session), body.cost_center_id)
    project = Project(id=uuid.uuid4(), name=body.name, client_id=client.id, deal_id=None, owner_id=body.owner_id,
                      status=body.status, budget_amount=budget, budget_hours=body.budget_hours, currency=currency,
                      cost_center_id=body.cost_center_id)
    ProjectRepository(uow.session).add(project)
    _record_created(project, client, PlannedSchedule("none", []), now=utcnow())
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
        await usable_cost_center(CostCenterRepository(uow.session), changes["cost_center_id"])
    for field, value in changes.items():
        setattr(project, field, value)
    await uow.commit()
    return project
