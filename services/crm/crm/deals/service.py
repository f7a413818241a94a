"""Deal rules: stage moves are recorded with history; winning needs valid billing terms and emits deal.won."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.automation import api as automation
from crm.companies.api import CompanyRepository, ContactRepository
from crm.db import utcnow
from crm.deals.models import Deal, DealStageChange, DealStatus
from crm.deals.one_statement_win import write_win
from crm.deals.repository import DealRepository
from crm.deals.schemas import DealIn
from crm.pipelines.api import PipelineRepository, Stage, StageKind
from throughline_events.billing import BillingTerms, Retainer
from throughline_events.crm import (
    CompanyRef,
    ContactRef,
    DealCreatedV1,
    DealLostV1,
    DealStageChangedV1,
    DealUpdatedV1,
    DealWonV1,
    WonLine,
)
from throughline_events.money import check_amount, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, Unprocessable

_billing_terms: TypeAdapter[Any] = TypeAdapter(BillingTerms)


def rule_target(deal: Deal) -> automation.Target:
    """The deal as automation rules see it: `{title}` is its title; their tasks and notes link to it, its company
    and its contact."""
    return automation.Target(record=deal, title=lambda: deal.title, links=automation.Links(
        deal_id=deal.id, company_id=deal.company_id, contact_id=deal.contact_id))


async def create_deal(uow: UnitOfWork, data: DealIn, principal: Principal) -> Deal:
    deal = await add_deal(uow, data, principal)
    await uow.commit()
    return deal


async def add_deal(uow: UnitOfWork, data: DealIn, principal: Principal) -> Deal:
    """Stage a new deal with its first history row and deal.created (no commit: lead conversion shares it)."""
    session = uow.session
    company = await CompanyRepository(session).get(data.company_id)
    if company is None:
        raise Unprocessable(f"Company {data.company_id} does not exist.")
    if data.contact_id is not None and await ContactRepository(session).get(data.contact_id) is None:
        raise Unprocessable(f"Contact {data.contact_id} does not exist.")
    pipelines = PipelineRepository(session)
    stage = await _initial_stage(pipelines, data)
    now = utcnow()
    deal = Deal(
        id=uuid.uuid4(), title=data.title, company_id=company.id, contact_id=data.contact_id,
        pipeline_id=stage.pipeline_id, stage_id=stage.id, amount=data.amount, currency=data.currency,
        owner_id=data.owner_id or principal.user_id, expected_close_date=data.expected_close_date,
        billing_terms=data.billing.model_dump(mode="json") if data.billing else None,
        status=DealStatus.OPEN, stage_entered_at=now, created_at=now, updated_at=now,
    )
    repo = DealRepository(session)
    repo.add(deal)
    repo.add_stage_change(DealStageChange(deal_id=deal.id, from_stage_id=None, to_stage_id=stage.id,
                                          changed_by=principal.user_id, changed_at=now))
    deal.record(DealCreatedV1(
        deal_id=deal.id, title=deal.title, company_id=deal.company_id, contact_id=deal.contact_id,
        amount=deal.amount, currency=deal.currency, pipeline_id=deal.pipeline_id, stage_id=deal.stage_id,
        owner_id=deal.owner_id, expected_close_date=deal.expected_close_date, created_at=now,
        stage_name=stage.name, probability=stage.probability, billing=_terms_or_none(deal),
    ))
    await session.flush()
    await automation.on_stage_entered(uow, rule_target(deal), stage.id)
    return deal


async def _initial_stage(pipelines: PipelineRepository, data: DealIn) -> Stage:
    if data.stage_id is not None:
        stage = await pipelines.get_stage(data.stage_id, live_only=True)
        if stage is None or (data.pipeline_id and stage.pipeline_id != data.pipeline_id):
            raise Unprocessable(f"Stage {data.stage_id} does not exist in that pipeline.")
        if stage.kind != StageKind.OPEN:
            raise Unprocessable("A new deal starts in an open stage; win or lose it afterwards.")
        return stage
    pipeline_id = data.pipeline_id
    if pipeline_id is None:
        default = await pipelines.default()
        if default is None:
            raise Unprocessable("There is no default pipeline; name a pipeline_id.")
        pipeline_id = default.id
    stage = await pipelines.first_open_stage(pipeline_id)
    if stage is None:
        raise Unprocessable(f"Pipeline {pipeline_id} does not exist or has no open stage.")
    return stage


async def move_to_stage(uow: UnitOfWork, deal_id: uuid.UUID, stage_id: uuid.UUID, principal: Principal) -> Deal:
    deal = await _open_deal(uow, deal_id)
    stage = await PipelineRepository(uow.session).get_stage(stage_id, live_only=True)
    if stage is None or stage.pipeline_id != deal.pipeline_id:
        raise Unprocessable(f"Stage {stage_id} is not a stage of this deal's pipeline.")
    if stage.kind == StageKind.WON:
        raise Unprocessable("Use POST /deals/{id}/win to win a deal: it checks the billing terms.")
    if stage.kind == StageKind.LOST:
        raise Unprocessable("Use POST /deals/{id}/lose to lose a deal: it records the reason.")
    if stage.id != deal.stage_id:
        await _enter_stage(uow, deal, stage, principal)
    await uow.commit()
    return deal


async def win_deal(uow: UnitOfWork, deal_id: uuid.UUID, billing: Any, principal: Principal, *,
                   one_statement: bool = True) -> Deal:
    """Win a deal: it moves to its pipeline's won stage and records deal.stage_changed and deal.won.

    A win is the CRM's hottest write and usually fires no automation rule. Such a win reads the deal without a
    transaction and writes the deal, its history row and its events in one statement that applies only if the
    deal is still open and unchanged since it was read (one_statement_win.py). A win that fires rules, or whose
    deal changed in between (a concurrent win, an edit), is done again in a transaction on the locked deal.

    `one_statement=False` takes the plain path from the start: the locked deal, written by the ORM's flush, as
    every win that fires rules is; tests/crm/test_one_statement_win.py compares the two."""
    if one_statement:
        await uow.without_transaction()
        deal = await _win(uow, deal_id, billing, principal, locked=False, one_statement=True)
        if deal is not None:
            return deal
        await uow.restart()
    deal = await _win(uow, deal_id, billing, principal, locked=True, one_statement=one_statement)
    assert deal is not None  # under the lock the write always applies
    return deal


async def win_on_quote(uow: UnitOfWork, deal: Deal, *, amount: Any, currency: str, billing: Any,
                       lines: list[WonLine], principal: Principal) -> Deal:
    """Win a deal (locked by the caller, in the caller's transaction) on an accepted quote: the deal takes the
    quote's amount, currency and billing terms, and deal.won carries the quote's lines. Commits, as every win."""
    deal.amount, deal.currency = amount, currency
    won = await _win(uow, deal.id, billing, principal, locked=True, one_statement=False, lines=lines)
    assert won is not None  # under the lock the write always applies
    return won


async def _win(uow: UnitOfWork, deal_id: uuid.UUID, billing: Any, principal: Principal, *,
               locked: bool, one_statement: bool, lines: list[WonLine] | None = None) -> Deal | None:
    """The win (see `win_deal`); None when it must be done again `locked` (only ever when not `locked`)."""
    repo = DealRepository(uow.session)
    target = await repo.for_win(deal_id, lock=locked)
    if target is None:
        raise NotFound(f"Deal {deal_id} does not exist.")
    deal = target.deal
    _require_open(deal)
    seen_updated_at = deal.updated_at
    if billing is not None:
        deal.billing_terms = billing.model_dump(mode="json")
    terms = _valid_terms(deal)
    _check_retainer_total(deal, terms)
    if deal.amount <= 0:
        raise Unprocessable("A deal is won for an amount greater than zero.")
    if target.company_name is None:
        raise Unprocessable("The deal's company has been deleted.")
    won_stage = target.won_stage
    if won_stage is None:
        raise Unprocessable("This pipeline has no won stage.")
    if target.has_rules and not locked:
        return None  # rules change the deal through the ORM, in a transaction
    stage_rules, won_rules = await automation.win_rules(uow, won_stage.id) if target.has_rules else ([], [])
    # The one statement writes only a deal that nothing changes after it is won; rules change it through the ORM.
    one_statement = one_statement and not (stage_rules or won_rules)
    change = _record_stage_change(deal, won_stage, principal, target.previous_stage_name)
    if not one_statement:
        repo.add_stage_change(change)  # the flush writes it with the deal, as the rules leave the deal
    # Stage rules act before deal.won is recorded (their changes are in it), deal_won rules after, as documented.
    await automation.fire_all(uow, stage_rules, rule_target(deal))
    deal.status = DealStatus.WON
    deal.won_at = deal.stage_entered_at
    contact = target.contact
    deal.record(DealWonV1(
        deal_id=deal.id, title=deal.title, company=CompanyRef(id=deal.company_id, name=target.company_name),
        contact=ContactRef(id=contact.id, name=contact.full_name, email=contact.email) if contact else None,
        amount=deal.amount, currency=deal.currency, owner_id=deal.owner_id, won_at=deal.won_at, billing=terms,
        lines=lines,
    ))
    await automation.fire_all(uow, won_rules, rule_target(deal))
    if one_statement and not await write_win(uow.session, deal, seen_updated_at, change, uow.outbox_parameters()):
        return None
    await uow.commit()
    return deal


async def lose_deal(uow: UnitOfWork, deal_id: uuid.UUID, reason: str, principal: Principal) -> Deal:
    deal = await _open_deal(uow, deal_id)
    lost_stage = await PipelineRepository(uow.session).stage_of_kind(deal.pipeline_id, StageKind.LOST)
    if lost_stage is None:
        raise Unprocessable("This pipeline has no lost stage.")
    await _enter_stage(uow, deal, lost_stage, principal)
    deal.status = DealStatus.LOST
    deal.lost_at = deal.stage_entered_at
    deal.lost_reason = reason
    deal.record(DealLostV1(
        deal_id=deal.id, title=deal.title, company_id=deal.company_id, amount=deal.amount, currency=deal.currency,
        reason=reason, owner_id=deal.owner_id, lost_at=deal.lost_at,
    ))
    await uow.commit()
    return deal


async def get_deal(uow: UnitOfWork, deal_id: uuid.UUID) -> Deal:
    deal = await DealRepository(uow.session).get(deal_id)
    if deal is None:
        raise NotFound(f"Deal {deal_id} does not exist.")
    return deal


async def _open_deal(uow: UnitOfWork, deal_id: uuid.UUID) -> Deal:
    # Row lock: two concurrent wins of one deal must not both emit deal.won.
    deal = await DealRepository(uow.session).get(deal_id, for_update=True)
    if deal is None:
        raise NotFound(f"Deal {deal_id} does not exist.")
    _require_open(deal)
    return deal


def _require_open(deal: Deal) -> None:
    if deal.status != DealStatus.OPEN:
        raise Conflict(f"The deal is already {deal.status}.", type_slug="deal-closed", status_now=deal.status)


async def _enter_stage(uow: UnitOfWork, deal: Deal, stage: Stage, principal: Principal) -> None:
    previous = await PipelineRepository(uow.session).get_stage(deal.stage_id)
    change = _record_stage_change(deal, stage, principal, previous.name if previous else None)
    DealRepository(uow.session).add_stage_change(change)
    await automation.on_stage_entered(uow, rule_target(deal), stage.id)


def _record_stage_change(deal: Deal, stage: Stage, principal: Principal,
                         previous_stage_name: str | None) -> DealStageChange:
    """Move the deal to `stage` and record deal.stage_changed; returns the history row for the caller to write
    (no statement here)."""
    now = utcnow()
    change = DealStageChange(
        deal_id=deal.id, from_stage_id=deal.stage_id, to_stage_id=stage.id, changed_by=principal.user_id,
        changed_at=now, seconds_in_previous_stage=int((now - deal.stage_entered_at).total_seconds()),
    )
    deal.record(DealStageChangedV1(
        deal_id=deal.id, from_stage_id=deal.stage_id, from_stage_name=previous_stage_name,
        to_stage_id=stage.id, to_stage_name=stage.name, probability=stage.probability,
        changed_by=principal.user_id, changed_at=now,
    ))
    deal.stage_id = stage.id
    deal.stage_entered_at = now
    deal.updated_at = now
    return change


def _valid_terms(deal: Deal) -> Any:
    """The deal's billing terms, validated. Sales must choose them before winning (docs/decisions.md)."""
    if deal.billing_terms is None:
        raise Unprocessable("Billing terms are required to win a deal: set them on the deal or send them "
                            "in the win request.", type_slug="billing-terms-required")
    try:
        return _billing_terms.validate_python(deal.billing_terms)
    except ValidationError as exc:
        raise Unprocessable(f"The deal's billing terms are invalid: {exc.errors()[0]['msg']}",
                            type_slug="invalid-billing-terms") from None


def _check_retainer_total(deal: Deal, terms: Any) -> None:
    """A retainer bills count x amount: that must be the deal's amount, or the ERP bills something else."""
    if isinstance(terms, Retainer):
        total = terms.amount * terms.count
        if total != deal.amount:
            raise Unprocessable(
                f"The retainer bills {terms.count} x {terms.amount} = {round_money(total, deal.currency)} "
                f"{deal.currency}, but the deal amount is {round_money(deal.amount, deal.currency)} {deal.currency}; "
                "make them equal.", type_slug="retainer-total-mismatch")


# What deal.updated carries: a change to any of them is news for the ERP's replica (planning, cash forecast).
_PUBLISHED_FIELDS = ("title", "contact_id", "amount", "currency", "owner_id", "expected_close_date", "billing_terms")


def _terms_or_none(deal: Deal) -> Any:
    """The open deal's billing terms for its events: None when unset or not (yet) valid (winning checks them)."""
    if deal.billing_terms is None:
        return None
    try:
        return _billing_terms.validate_python(deal.billing_terms)
    except ValidationError:
        return None


async def update_deal(uow: UnitOfWork, deal_id: uuid.UUID, changes: dict[str, Any], principal: Principal) -> Deal:
    """Change an open deal's fields (not its stage or status: those have their own commands). A change to what
    deal.updated carries records it, in this transaction; a PATCH that changes nothing of it records nothing."""
    deal = await _open_deal(uow, deal_id)
    for required in ("title", "amount", "currency"):
        if required in changes and changes[required] is None:
            raise Unprocessable(f"{required}: cannot be cleared.")
    if "amount" in changes or "currency" in changes:
        # The stored amount carries 4 decimals (12000.0000); check_amount judges its significant digits.
        amount = changes.get("amount", deal.amount)
        try:
            check_amount(amount, changes.get("currency", deal.currency))
        except ValueError as exc:
            raise Unprocessable(f"amount: {exc}") from None
    contact_id = changes.get("contact_id")
    if contact_id is not None and await ContactRepository(uow.session).get(contact_id) is None:
        raise Unprocessable(f"contact_id: contact {changes['contact_id']} does not exist.")
    before = tuple(getattr(deal, field) for field in _PUBLISHED_FIELDS)
    if "billing" in changes:
        billing = changes.pop("billing")
        deal.billing_terms = billing
    for field, value in changes.items():
        setattr(deal, field, value)
    deal.updated_at = utcnow()
    if tuple(getattr(deal, field) for field in _PUBLISHED_FIELDS) != before:
        deal.record(DealUpdatedV1(
            deal_id=deal.id, title=deal.title, company_id=deal.company_id, contact_id=deal.contact_id,
            amount=deal.amount, currency=deal.currency, owner_id=deal.owner_id,
            expected_close_date=deal.expected_close_date, billing=_terms_or_none(deal), updated_by=principal.user_id,
            updated_at=deal.updated_at))
    await uow.commit()
    return deal


async def reopen_deal(uow: UnitOfWork, deal_id: uuid.UUID, stage_id: uuid.UUID | None, principal: Principal) -> Deal:
    """A lost deal may be reopened (into a given open stage, else the stage it was lost from). A won deal may not:
    the ERP has already turned it into a project and a billing schedule."""
    repo = DealRepository(uow.session)
    deal = await repo.get(deal_id, for_update=True)
    if deal is None:
        raise NotFound(f"Deal {deal_id} does not exist.")
    if deal.status == DealStatus.OPEN:
        raise Conflict("The deal is open already.", type_slug="deal-open", status_now=deal.status)
    if deal.status == DealStatus.WON:
        raise Conflict("A won deal cannot be reopened: the ERP already has its project and billing schedule. "
                       "Open a new deal instead.", type_slug="deal-won-final", status_now=deal.status)
    pipelines = PipelineRepository(uow.session)
    if stage_id is not None:
        stage = await pipelines.get_stage(stage_id, live_only=True)
        if stage is None or stage.pipeline_id != deal.pipeline_id or stage.kind != StageKind.OPEN:
            raise Unprocessable(f"stage_id: {stage_id} is not an open stage of this deal's pipeline.")
    else:
        stage = await _stage_before_loss(uow, deal) or await pipelines.first_open_stage(deal.pipeline_id)
        if stage is None:
            raise Unprocessable("This pipeline has no open stage to reopen the deal in.")
    deal.status = DealStatus.OPEN
    deal.lost_at = None
    deal.lost_reason = None
    deal.reopened_at = utcnow()
    await _enter_stage(uow, deal, stage, principal)
    await uow.commit()
    return deal


async def _stage_before_loss(uow: UnitOfWork, deal: Deal) -> Stage | None:
    history = await DealRepository(uow.session).stage_history(deal.id)
    for change in reversed(history):
        if change.to_stage_id == deal.stage_id and change.from_stage_id is not None:
            stage = await PipelineRepository(uow.session).get_stage(change.from_stage_id, live_only=True)
            if stage is not None and stage.kind == StageKind.OPEN:
                return stage
    return None


async def stage_history(uow: UnitOfWork, deal_id: uuid.UUID) -> tuple[Deal, list[dict[str, Any]]]:
    deal = await get_deal(uow, deal_id)
    changes = await DealRepository(uow.session).stage_history(deal_id)
    names = await PipelineRepository(uow.session).stage_names(deal.pipeline_id)
    rows: list[dict[str, Any]] = []
    for index, change in enumerate(changes):
        left_at: datetime | None = changes[index + 1].changed_at if index + 1 < len(changes) else None
        rows.append({
            "id": change.id, "from_stage_id": change.from_stage_id,
            "from_stage_name": names.get(change.from_stage_id) if change.from_stage_id else None,
            "to_stage_id": change.to_stage_id, "to_stage_name": names.get(change.to_stage_id, "?"),
            "changed_by": change.changed_by, "changed_at": change.changed_at,
            "seconds_in_previous_stage": change.seconds_in_previous_stage,
            "seconds_in_stage": int(((left_at or utcnow()) - change.changed_at).total_seconds()),
            "current": left_at is None,
        })
    return deal, rows


async def company_has_open_deals(session: AsyncSession, company_id: uuid.UUID) -> bool:
    """What companies ask before a company is deleted (it may not be while it has open deals)."""
    return await DealRepository(session).company_has_open_deals(company_id)


async def open_deals_in_stage(session: AsyncSession, stage_id: uuid.UUID) -> int:
    """What pipelines ask before a stage is archived (it may not be while open deals are in it)."""
    return await DealRepository(session).open_deals_in_stage(stage_id)
