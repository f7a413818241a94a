"""The won-deal intake, one deal at a time: a won deal becomes a project with its billing schedule (and the
client of its company, if the ERP does not know the company yet), and one project.created. A deal won on a quote
brings the quote's lines: they become the project's budget lines.

An orchestration above projects and billing: the project is the projects package's, the schedule billing's; the
intake only puts them together for a won deal. Runs of won deals take the set-based path with the same effects
(`won_deals_in_bulk`).
"""

import uuid

from erp.billing.api import PlannedSchedule, add_schedule, plan_schedule
from erp.clients.api import ClientRepository, client_for_company
from erp.db import utcnow
from erp.projects.api import BudgetLine, Project, ProjectRepository, ProjectStatus, budget_line_rows, record_created
from throughline_events.crm import DealWonV1
from throughline_events.erp import ScheduleItemRef
from throughline_events.money import round_money
from throughline_messaging.uow import UnitOfWork


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
        status=ProjectStatus.ACTIVE, budget_amount=round_money(won.amount, won.currency), currency=won.currency,
    )
    projects.add(project)
    await uow.session.flush()  # the schedule's (and the budget lines') foreign key needs the project row
    if won.lines:  # won on a quote: its lines are the project's budget, line by line
        projects.add_budget_lines([BudgetLine(**row) for row in budget_line_rows(
            project.id, won.lines, won.currency, utcnow())])
    add_schedule(uow, project_id=project.id, currency=project.currency, budget=project.budget_amount, plan=plan,
                 terms=won.billing.model_dump(mode="json") if won.billing else None)
    record_created(project, client, plan.billing_type, schedule_refs(plan), now=utcnow())
    return project


def schedule_refs(plan: PlannedSchedule) -> list[ScheduleItemRef]:
    """The schedule as project.created tells it."""
    return [ScheduleItemRef(label=i.label, due_date=i.due_date, amount=i.amount) for i in plan.items]
