"""Automation rule management: create, list, rename, pause, delete, and the log of firings."""

import uuid
from collections.abc import Awaitable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.automation.models import AutomationFiring, AutomationRule
from crm.automation.schemas import EnrolInSequence, RuleIn, RulePatch
from crm.db import utcnow
from crm.pipelines.api import PipelineRepository
from crm.ports import Port
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import NotFound, Unprocessable

# Whether an enrol_in_sequence action names a sequence that exists: sequences sit above the engine (crm/ports.py).
sequence_exists: Port[[AsyncSession, uuid.UUID], Awaitable[bool]] = Port("whether a sequence exists")


async def create_rule(uow: UnitOfWork, data: RuleIn, created_by: str) -> AutomationRule:
    if data.stage_id is not None and await PipelineRepository(uow.session).get_stage(data.stage_id,
                                                                                      live_only=True) is None:
        raise Unprocessable(f"stage_id: stage {data.stage_id} does not exist.")
    for action in data.actions:
        if isinstance(action, EnrolInSequence) and not await sequence_exists(uow.session, action.sequence_id):
            raise Unprocessable(f"actions: sequence {action.sequence_id} does not exist.")
    now = utcnow()
    rule = AutomationRule(id=uuid.uuid4(), name=data.name, trigger=data.trigger, stage_id=data.stage_id,
                          idle_days=data.idle_days, actions=[a.model_dump(mode="json") for a in data.actions],
                          active=data.active, created_by=created_by, created_at=now, updated_at=now)
    uow.session.add(rule)
    await uow.commit()
    return rule


async def get_rule(uow: UnitOfWork, rule_id: uuid.UUID) -> AutomationRule:
    rule = await uow.session.get(AutomationRule, rule_id)
    if rule is None:
        raise NotFound(f"Automation rule {rule_id} does not exist.")
    return rule


async def list_rules(uow: UnitOfWork) -> list[AutomationRule]:
    return list((await uow.session.execute(select(AutomationRule).order_by(AutomationRule.created_at))).scalars())


async def update_rule(uow: UnitOfWork, rule_id: uuid.UUID, data: RulePatch) -> AutomationRule:
    rule = await get_rule(uow, rule_id)
    if data.name is not None:
        rule.name = data.name
    if data.active is not None:
        rule.active = data.active
    rule.updated_at = utcnow()
    await uow.commit()
    return rule


async def delete_rule(uow: UnitOfWork, rule_id: uuid.UUID) -> None:
    rule = await get_rule(uow, rule_id)
    await uow.session.execute(delete(AutomationFiring).where(AutomationFiring.rule_id == rule.id))
    await uow.session.delete(rule)
    await uow.commit()


async def firings(uow: UnitOfWork, rule_id: uuid.UUID, record_id: uuid.UUID | None) -> list[AutomationFiring]:
    await get_rule(uow, rule_id)
    query = select(AutomationFiring).where(AutomationFiring.rule_id == rule_id)
    if record_id is not None:
        query = query.where(AutomationFiring.record_id == record_id)
    return list((await uow.session.execute(query.order_by(AutomationFiring.fired_at).limit(500))).scalars())

