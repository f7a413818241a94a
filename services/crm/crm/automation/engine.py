"""Firing automation rules. Event triggers (stage entered, deal won, lead created) run inside the transaction of
the change that caused them; the time trigger (deal idle) runs from the scheduler (crm/idle_deals).

Every firing first inserts (rule, record, day) with ON CONFLICT DO NOTHING: if the row exists the rule has
fired for that record that day and nothing happens, however many workers or retries race.

The engine sits below the deals and leads that fire it: a win asks, in the statement that loads the deal, whether
any rule fires (`win_rules_exist`). So it knows the record a rule fires on only as a `Target` that the deals or
leads package describes, and the task or note a rule creates is written by the tasks and activities packages,
which sit above deals and leads (a task or note names one), through the ports `add_rule_task` and `add_rule_note`
(crm/ports.py).
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.automation.models import AutomationFiring, AutomationRule, Trigger
from crm.db import utcnow
from crm.ports import Port
from throughline_messaging.uow import UnitOfWork

log = structlog.get_logger(__name__)

# Who the tasks and notes a rule creates are created by.
CREATED_BY = "automation"


class Record(Protocol):
    """A deal or a lead, as far as the engine changes it (assign_owner, set_field)."""

    id: uuid.UUID
    owner_id: str | None
    updated_at: datetime


@dataclass(frozen=True)
class Links:
    """The records a task or note created by a rule is linked to."""

    company_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Target:
    """What a rule fires on: the record, what its tasks and notes link to, and what `{title}` in an action's
    template stands for (read when the action runs: a set_field earlier in the rule may have changed it)."""

    record: Record
    links: Links
    title: Callable[[], str]


@dataclass(frozen=True)
class RuleTask:
    """The follow-up a create_task action adds."""

    rule_id: uuid.UUID
    title: str
    description: str | None
    due_at: datetime
    assignee_id: str
    links: Links
    created_at: datetime


@dataclass(frozen=True)
class RuleNote:
    """The note a log_note action logs."""

    rule_id: uuid.UUID
    subject: str
    body: str | None
    links: Links
    created_at: datetime


@dataclass(frozen=True)
class RuleEnrolment:
    """The enrolment an enrol_in_sequence action asks for: the contact (or lead) the rule fired on, in a sequence.
    `links.deal_id` is the deal whose win or loss stops it (none for a deal_won rule: its deal is closed already)."""

    rule_id: uuid.UUID
    sequence_id: uuid.UUID
    links: Links
    owner_id: str | None
    created_at: datetime


add_rule_task: Port[[AsyncSession, RuleTask], None] = Port("add the task of a rule's create_task action")
add_rule_note: Port[[AsyncSession, RuleNote], None] = Port("log the note of a rule's log_note action")
# Sequences sit above deals and leads (they mail their people), so they answer through a port (crm/ports.py).
enrol_in_sequence: Port[[AsyncSession, RuleEnrolment], Awaitable[None]] = Port(
    "enrol the record's contact or lead in a sequence")


async def on_stage_entered(uow: UnitOfWork, target: Target, stage_id: uuid.UUID) -> None:
    await fire_all(uow, await rules_for(uow, Trigger.STAGE_ENTERED, AutomationRule.stage_id == stage_id), target)


async def on_lead_created(uow: UnitOfWork, target: Target) -> None:
    await fire_all(uow, await rules_for(uow, Trigger.LEAD_CREATED), target)


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


async def rules_for(uow: UnitOfWork, trigger: Trigger, *where: Any) -> list[AutomationRule]:
    """The active rules with this trigger (and conditions), oldest first."""
    query = select(AutomationRule).where(AutomationRule.trigger == trigger, AutomationRule.active, *where)
    return list((await uow.session.execute(query.order_by(AutomationRule.created_at))).scalars())


async def fire_all(uow: UnitOfWork, rules: list[AutomationRule], target: Target) -> None:
    for rule in rules:
        await fire(uow, rule, target, utcnow())


async def fire(uow: UnitOfWork, rule: AutomationRule, target: Target, now: datetime) -> bool:
    """Claim (rule, record, day), then apply the actions; False when it had fired already that day."""
    claimed = (await uow.session.execute(
        pg_insert(AutomationFiring).values(id=uuid.uuid4(), rule_id=rule.id, record_id=target.record.id,
                                           fired_on=now.date(), fired_at=now, created_at=now, updated_at=now)
        .on_conflict_do_nothing(constraint="uq_automation_firings_rule_record_day")
        .returning(AutomationFiring.id))).first()
    if claimed is None:
        return False
    for action in rule.actions:
        await _apply(uow.session, rule, target, action, now)
    await uow.session.flush()
    log.info("automation_fired", rule_id=str(rule.id), record_id=str(target.record.id), trigger=rule.trigger)
    return True


async def _apply(session: AsyncSession, rule: AutomationRule, target: Target, action: dict[str, Any],
                 now: datetime) -> None:
    record = target.record
    kind = action["type"]
    if kind == "create_task":
        assignee = record.owner_id if action.get("assignee", "owner") == "owner" else action["assignee"]
        add_rule_task(session, RuleTask(
            rule_id=rule.id, title=_render(action["title"], target), description=action.get("description"),
            due_at=now + timedelta(hours=int(action.get("due_in_hours", 24))),
            assignee_id=assignee or rule.created_by or "unassigned", links=target.links, created_at=now))
    elif kind == "assign_owner":
        record.owner_id = action["owner_id"]
        record.updated_at = now
    elif kind == "set_field":
        field, value = action["field"], action["value"]
        if field == "expected_close_date":  # a deal's; the rule schema allows it on deal triggers only
            setattr(record, field, date.fromisoformat(value))
        else:
            setattr(record, field, _render(value, target) if field == "title" else value)
        record.updated_at = now
    elif kind == "log_note":
        add_rule_note(session, RuleNote(rule_id=rule.id, subject=_render(action["subject"], target),
                                        body=action.get("body"), links=target.links, created_at=now))
    elif kind == "enrol_in_sequence":
        links = target.links
        if rule.trigger == Trigger.DEAL_WON:
            links = Links(company_id=links.company_id, contact_id=links.contact_id, lead_id=links.lead_id)
        await enrol_in_sequence(session, RuleEnrolment(
            rule_id=rule.id, sequence_id=uuid.UUID(action["sequence_id"]), links=links,
            owner_id=record.owner_id or rule.created_by, created_at=now))


def _render(template: str, target: Target) -> str:
    return template.replace("{title}", target.title())[:200]
