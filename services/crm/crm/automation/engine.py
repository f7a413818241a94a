"""Evaluating automation rules. Event triggers (stage entered, deal won, lead created) run inside the
transaction of the change that caused them; the time trigger (deal idle) runs from the scheduler.

Every firing first inserts (rule, record, day) with ON CONFLICT DO NOTHING: if the row exists the rule has
fired for that record that day and nothing happens, however many workers or retries race."""

import asyncio
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from crm.activities.models import Activity
from crm.automation.models import AutomationFiring, AutomationRule, Trigger
from crm.db import utcnow
from crm.deals.models import Deal, DealStatus
from crm.leads.models import Lead
from crm.tasks.models import Task
from throughline_messaging.uow import UnitOfWork

log = structlog.get_logger(__name__)

BATCH = 500


async def on_stage_entered(uow: UnitOfWork, deal: Deal, stage_id: uuid.UUID) -> None:
    rules = await _rules(uow, Trigger.STAGE_ENTERED, AutomationRule.stage_id == stage_id)
    await fire_all(uow, rules, deal)


def _fires_on_win(won_stage_id: Any) -> ColumnElement[bool]:
    return and_(AutomationRule.active, or_(
        AutomationRule.trigger == Trigger.DEAL_WON,
        and_(AutomationRule.trigger == Trigger.STAGE_ENTERED, AutomationRule.stage_id == won_stage_id)))


def win_rules_exist(won_stage_id: Any) -> ColumnElement[bool]:
    """Whether any rule fires when a deal enters `won_stage_id` (a column or value): the win loads this with the
    deal, so the usual win (no rules) costs no statement of its own here."""
    return exists().where(_fires_on_win(won_stage_id))


async def win_rules(uow: UnitOfWork, won_stage_id: uuid.UUID) -> tuple[list[AutomationRule], list[AutomationRule]]:
    """The rules a win fires, in one statement: (stage_entered for the won stage, deal_won), each oldest first."""
    rules = list((await uow.session.execute(
        select(AutomationRule).where(_fires_on_win(won_stage_id)).order_by(AutomationRule.created_at))).scalars())
    return ([r for r in rules if r.trigger == Trigger.STAGE_ENTERED],
            [r for r in rules if r.trigger == Trigger.DEAL_WON])


async def fire_all(uow: UnitOfWork, rules: list[AutomationRule], deal: Deal) -> None:
    for rule in rules:
        await fire(uow, rule, deal, utcnow())


async def on_lead_created(uow: UnitOfWork, lead: Lead) -> None:
    for rule in await _rules(uow, Trigger.LEAD_CREATED):
        await fire(uow, rule, lead, utcnow())


async def _rules(uow: UnitOfWork, trigger: str, *where: Any) -> list[AutomationRule]:
    query = select(AutomationRule).where(AutomationRule.trigger == trigger, AutomationRule.active, *where)
    return list((await uow.session.execute(query.order_by(AutomationRule.created_at))).scalars())


async def fire(uow: UnitOfWork, rule: AutomationRule, record: Deal | Lead, now: datetime) -> bool:
    """Claim (rule, record, day), then apply the actions; False when it had fired already that day."""
    claimed = (await uow.session.execute(
        pg_insert(AutomationFiring).values(id=uuid.uuid4(), rule_id=rule.id, record_id=record.id,
                                           fired_on=now.date(), fired_at=now, created_at=now, updated_at=now)
        .on_conflict_do_nothing(constraint="uq_automation_firings_rule_record_day")
        .returning(AutomationFiring.id))).first()
    if claimed is None:
        return False
    for action in rule.actions:
        _apply(uow, rule, record, action, now)
    await uow.session.flush()
    log.info("automation_fired", rule_id=str(rule.id), record_id=str(record.id), trigger=rule.trigger)
    return True


def _apply(uow: UnitOfWork, rule: AutomationRule, record: Deal | Lead, action: dict[str, Any],
           now: datetime) -> None:
    is_deal = isinstance(record, Deal)
    title = record.title if isinstance(record, Deal) else (record.full_name or record.company_name or "lead")
    links: dict[str, Any] = ({"deal_id": record.id, "company_id": record.company_id, "contact_id": record.contact_id}
                             if isinstance(record, Deal) else {"lead_id": record.id})
    kind = action["type"]
    if kind == "create_task":
        assignee = record.owner_id if action.get("assignee", "owner") == "owner" else action["assignee"]
        uow.session.add(Task(
            id=uuid.uuid4(), title=_render(action["title"], title), description=action.get("description"),
            due_at=now + timedelta(hours=int(action.get("due_in_hours", 24))),
            assignee_id=assignee or rule.created_by or "unassigned", status="open", created_by="automation",
            automation_rule_id=rule.id, created_at=now, updated_at=now, **links))
    elif kind == "assign_owner":
        record.owner_id = action["owner_id"]
        record.updated_at = now
    elif kind == "set_field":
        field, value = action["field"], action["value"]
        if is_deal and field == "expected_close_date":
            setattr(record, field, date.fromisoformat(value))
        else:
            setattr(record, field, _render(value, title) if field == "title" else value)
        record.updated_at = now
    elif kind == "log_note":
        uow.session.add(Activity(
            id=uuid.uuid4(), kind="note", subject=_render(action["subject"], title), body=action.get("body"),
            direction=None, occurred_at=now, created_by="automation", automation_rule_id=rule.id,
            created_at=now, updated_at=now, **links))


def _render(template: str, title: str) -> str:
    return template.replace("{title}", title)[:200]


async def run_time_based(uow: UnitOfWork, as_of: datetime) -> int:
    """Fire every active deal_idle rule for every open deal idle for its N days as of `as_of`, once per idle
    stretch (not again until the deal sees activity and goes quiet again). State-based, so a scheduler that
    was down fires everything that became due meanwhile as soon as it runs again."""
    fired = 0
    rules = await _rules(uow, Trigger.DEAL_IDLE)
    for rule in rules:
        assert rule.idle_days is not None
        last_touch = func.coalesce(Deal.last_activity_at, Deal.created_at)
        already = exists().where(and_(AutomationFiring.rule_id == rule.id, AutomationFiring.record_id == Deal.id,
                                      AutomationFiring.fired_at >= last_touch))
        while True:
            deals = list((await uow.session.execute(
                select(Deal).where(Deal.status == DealStatus.OPEN, last_touch <= as_of - timedelta(days=rule.idle_days),
                                   ~already)
                .order_by(Deal.id).limit(BATCH).with_for_update(skip_locked=True))).scalars())
            if not deals:
                break
            fired_now = 0
            for deal in deals:
                fired_now += await fire(uow, rule, deal, as_of)
            await uow.commit()
            fired += fired_now
            if len(deals) < BATCH or not fired_now:
                break
    await uow.commit()
    return fired


async def automation_job(runtime: Any) -> None:
    """Scheduler role: evaluate time-based rules every CRM_AUTOMATION_INTERVAL_SECONDS, forever."""
    from crm.settings import get_settings

    interval = get_settings().automation_interval_seconds
    while True:
        try:
            async with runtime.uow() as uow:
                fired = await run_time_based(uow, utcnow())
            if fired:
                log.info("automation_run", fired=fired)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be away: try again next round
            log.warning("automation_run_failed", error=repr(exc))
        await asyncio.sleep(interval)
