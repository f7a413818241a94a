"""Keeping the replica of CRM deals in step with crm.deal.events, whatever order the events arrive in.

Deal events carry no version (company and contact events do), so the envelope's `occurred_at` orders them: the CRM
stamps each event when it records it, and a deal's events are recorded one after another under its row lock.
Two clocks are kept per deal, because two kinds of fact arrive:
- title, company, amount, currency (deal.created, deal.updated, deal.won, deal.lost carry them) and the expected
  close date and billing terms (deal.created and deal.updated): the newest event's are kept (`details_at`);
- stage, probability and status (deal.created, deal.stage_changed, deal.lost, deal.won): the newest event's
  are kept (`position_at`). A won deal stays won (the CRM never reopens one); a lost deal is open again when a
  stage change newer than its loss arrives (the CRM's reopen records one).
The consumer's inbox already makes each event's effect happen once; the clocks make a late or repeated event change
nothing. A row is claimed with INSERT ... ON CONFLICT DO NOTHING and then locked, so two consumers racing on one
new deal never collide on the unique key.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import Insert, insert

from erp.db import utcnow
from erp.pipeline.models import DealStatus, PipelineDeal
from throughline_messaging.bulk import arrays, insert_from_arrays
from throughline_messaging.uow import UnitOfWork

WON_PROBABILITY = Decimal(100)


@dataclass(frozen=True)
class Details:
    """What deal.created, deal.won and deal.lost say about the deal itself."""

    title: str
    company_id: uuid.UUID
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Stage:
    stage_id: uuid.UUID
    stage_name: str | None
    probability: Decimal | None


async def _claimed(uow: UnitOfWork, deal_id: uuid.UUID) -> PipelineDeal:
    session = uow.session
    now = utcnow()
    await session.execute(insert(PipelineDeal).values(
        id=uuid.uuid4(), deal_id=deal_id, status=DealStatus.OPEN, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["deal_id"]))
    return (await session.execute(select(PipelineDeal).where(PipelineDeal.deal_id == deal_id).with_for_update()
                                  .execution_options(populate_existing=True))).scalar_one()


def _take_details(deal: PipelineDeal, details: Details, at: datetime) -> bool:
    """Take `details` when they are newer than the row's; True when they were taken."""
    if deal.details_at is None or at > deal.details_at:
        deal.title, deal.company_id = details.title, details.company_id
        deal.amount, deal.currency = details.amount, details.currency
        deal.details_at = at
        return True
    return False


def _newer_position(deal: PipelineDeal, at: datetime) -> bool:
    return deal.status != DealStatus.WON and (deal.position_at is None or at > deal.position_at)


async def deal_created(uow: UnitOfWork, deal_id: uuid.UUID, details: Details, stage: Stage,
                       expected_close_date: date | None, billing_terms: dict[str, Any] | None, at: datetime) -> None:
    deal = await _claimed(uow, deal_id)
    if _take_details(deal, details, at):  # deal.created and deal.updated carry the close date and the terms
        deal.expected_close_date, deal.billing_terms = expected_close_date, billing_terms
    if _newer_position(deal, at):
        _take_stage(deal, stage, at)


async def deal_updated(uow: UnitOfWork, deal_id: uuid.UUID, details: Details, expected_close_date: date | None,
                       billing_terms: dict[str, Any] | None, at: datetime) -> None:
    """An open deal's details changed in the CRM: amount, currency and expected close move the tentative bookings'
    weight and the cash forecast's pipeline. Stage and status are not in it (their own events keep them)."""
    deal = await _claimed(uow, deal_id)
    if _take_details(deal, details, at):
        deal.expected_close_date, deal.billing_terms = expected_close_date, billing_terms


def _take_stage(deal: PipelineDeal, stage: Stage, at: datetime) -> None:
    deal.stage_id, deal.stage_name, deal.probability = stage.stage_id, stage.stage_name, stage.probability
    deal.status, deal.closed_at, deal.position_at = DealStatus.OPEN, None, at


async def stage_changed(uow: UnitOfWork, deal_id: uuid.UUID, stage: Stage, at: datetime) -> None:
    deal = await _claimed(uow, deal_id)
    if _newer_position(deal, at):
        _take_stage(deal, stage, at)


async def deal_lost(uow: UnitOfWork, deal_id: uuid.UUID, details: Details, at: datetime) -> None:
    deal = await _claimed(uow, deal_id)
    _take_details(deal, details, at)
    # `>=`: deal.lost is recorded right after the stage change into the lost stage; at the same instant, lost wins.
    if deal.status != DealStatus.WON and (deal.position_at is None or at >= deal.position_at):
        deal.status, deal.closed_at, deal.position_at = DealStatus.LOST, at, at


@dataclass(frozen=True)
class Won:
    deal_id: uuid.UUID
    details: Details
    at: datetime


_WON_COLUMNS = ("id", "deal_id", "company_id", "title", "amount", "currency", "details_at", "status", "probability",
                "position_at", "closed_at", "created_at", "updated_at")


@cache
def _upsert_won() -> Insert:
    """Built once. Won is final and the last thing that happens to a deal, so its details and position replace
    whatever the row holds, unless the row is already won (a repeat changes nothing)."""
    statement = insert_from_arrays(cast(Table, PipelineDeal.__table__), _WON_COLUMNS)
    new = statement.excluded
    table = PipelineDeal.__table__.c
    return statement.on_conflict_do_update(
        index_elements=["deal_id"],
        set_={"company_id": new.company_id, "title": new.title, "amount": new.amount, "currency": new.currency,
              "details_at": new.details_at, "status": new.status, "probability": new.probability,
              "position_at": func.greatest(table.position_at, new.position_at), "closed_at": new.closed_at,
              "updated_at": new.updated_at},
        where=table.status != DealStatus.WON)


async def deals_won(uow: UnitOfWork, won: list[Won]) -> None:
    """Every deal of `won` is won: one statement for a whole run of deal.won events (the intake's fast path hands
    over runs). A deal named twice in the run is written once (a statement may not touch a row twice)."""
    now = utcnow()
    by_deal = {w.deal_id: w for w in won}
    rows = [{"id": uuid.uuid4(), "deal_id": w.deal_id, "company_id": w.details.company_id, "title": w.details.title,
             "amount": w.details.amount, "currency": w.details.currency, "details_at": w.at,
             "status": DealStatus.WON.value, "probability": WON_PROBABILITY, "position_at": w.at, "closed_at": w.at,
             "created_at": now, "updated_at": now}
            for w in sorted(by_deal.values(), key=lambda w: w.deal_id)]  # id order: racing consumers cannot deadlock
    # A Core statement does not flush the session: a deal.created of the same batch, changed through the ORM, must
    # be written first, or its flush after this statement would make the won deal open again.
    await uow.session.flush()
    await uow.session.execute(_upsert_won(), arrays(rows, _WON_COLUMNS))
