"""Won deals in bulk: the set-based form of `service.project_from_won_deal`, the fast path of the intake.

Faster than the per-event handler on runs of won deals (a sales push, a backlog after downtime): three statements
per run instead of several per event. The consumer hands over a run of consecutive deal.won events of one batch.
The effects are exactly those of the per-event handler applied to each in turn
(tests/integration/test_won_deals_in_bulk.py runs the same deals through both and compares them):
a deal that already has a project, or that came earlier in the same run, is left alone; a company the ERP
does not know yet becomes a client (the first deal naming it gives the name); every new project gets its
billing schedule and one project.created event caused by its own deal.won. What changes is the number of
statements: three per run (clients claimed, clients locked, one insert of projects, schedules, items and their
events, `repository.IntakeRepository.insert_new`), and a fourth for the budget lines of deals won on a quote.

One difference from the per-event handler: the clients are claimed for every deal of the run, also for a deal
that turns out to have a project already. Its company has a client by then anyway (its project's, or the
replica's of the CRM's companies), so the claim finds it and changes nothing.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from erp.billing.api import PlannedSchedule, ScheduleItemStatus, plan_schedule, schedule_total
from erp.clients.api import ClientRepository, CompanySeen, clients_for_companies
from erp.db import utcnow
from erp.intake.repository import IntakeRepository
from erp.intake.service import schedule_refs
from erp.projects.api import ProjectStatus, budget_line_rows, project_created
from throughline_events.crm import DealWonV1
from throughline_events.money import round_money
from throughline_messaging.consumer import HandlerContext
from throughline_messaging.uow import UnitOfWork


@dataclass(frozen=True)
class _OfferedProject:
    ctx: HandlerContext
    won: DealWonV1
    project_id: uuid.UUID
    plan: PlannedSchedule


async def projects_from_won_deals(uow: UnitOfWork, contexts: list[HandlerContext]) -> None:
    first_of_each_deal: dict[uuid.UUID, HandlerContext] = {}
    for ctx in contexts:
        first_of_each_deal.setdefault(_won(ctx).deal_id, ctx)  # a repeat within the run is a no-op
    # Every deal is offered a project; the insert leaves out those whose deals already have one (a deal won
    # again after a reopen, a redelivery under another event id), so no statement asks which those are first.
    offered = [_offer(ctx) for ctx in first_of_each_deal.values()]
    companies: dict[uuid.UUID, CompanySeen] = {}
    for p in offered:
        companies.setdefault(p.won.company.id, CompanySeen(p.won.company.name, p.won.won_at))
    client_ids = await clients_for_companies(ClientRepository(uow.session), companies)
    now = utcnow()
    project_rows, schedule_rows, item_rows = [], [], []
    for p in offered:
        project_rows.append(_project_row(p, client_ids[p.won.company.id], now))
        schedule_id = uuid.uuid4()
        schedule_rows.append(_schedule_row(p, schedule_id, now))
        item_rows += [{"id": uuid.uuid4(), "schedule_id": schedule_id, "position": n, "label": i.label,
                       "due_date": i.due_date, "amount": i.amount, "status": ScheduleItemStatus.PENDING,
                       "reached_at": None, "invoice_id": None, "created_at": now, "updated_at": now}
                      for n, i in enumerate(p.plan.items, start=1)]
    # Every offered project's project.created goes into the insert, which keeps those of the projects it inserts.
    for p, row in zip(offered, project_rows, strict=True):
        uow.record(project_created(
            project_id=p.project_id, name=row["name"], deal_id=p.won.deal_id, company_id=p.won.company.id,
            client_id=row["client_id"], budget=row["budget_amount"], currency=row["currency"],
            owner_id=row["owner_id"], billing_type=p.plan.billing_type, schedule=schedule_refs(p.plan), now=now,
        ), p.ctx.cause)
    intake = IntakeRepository(uow.session)
    inserted = await intake.insert_new(project_rows, schedule_rows, item_rows, uow.outbox_parameters())
    # Deals won on a quote bring its lines: the budget lines of the projects just inserted (a fourth statement, only
    # for a run with such deals).
    line_rows = [row for p in offered if p.won.lines and p.won.deal_id in inserted
                 for row in budget_line_rows(p.project_id, p.won.lines, p.won.currency, now)]
    if line_rows:
        await intake.insert_budget_lines(line_rows)


def _offer(ctx: HandlerContext) -> _OfferedProject:
    won = _won(ctx)
    plan = plan_schedule(won.billing, won.amount, won.currency, won.won_at.date())
    return _OfferedProject(ctx, won, uuid.uuid4(), plan)


def _won(ctx: HandlerContext) -> DealWonV1:
    assert isinstance(ctx.payload, DealWonV1)  # the consumer routes only deal.won v1 here
    return ctx.payload


def _project_row(p: _OfferedProject, client_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    won = p.won
    return {"id": p.project_id, "name": won.title, "client_id": client_id, "deal_id": won.deal_id,
            "owner_id": won.owner_id, "status": ProjectStatus.ACTIVE,
            "budget_amount": round_money(won.amount, won.currency), "budget_hours": None, "currency": won.currency,
            "cost_center_id": None, "created_at": now, "updated_at": now}


def _schedule_row(p: _OfferedProject, schedule_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    won, plan = p.won, p.plan
    return {"id": schedule_id, "project_id": p.project_id, "billing_type": plan.billing_type,
            "currency": won.currency, "total": schedule_total(plan, round_money(won.amount, won.currency)),
            "hourly_rate": plan.hourly_rate, "cap": plan.cap,
            "terms": won.billing.model_dump(mode="json") if won.billing else None,
            "created_at": now, "updated_at": now}
