"""Running due sequence steps, each exactly once.

One transaction per batch:
1. take the due active enrolments of active sequences, `FOR UPDATE SKIP LOCKED` (two schedulers take different
   ones; an enrolment being stopped waits for this batch, or this batch skips it);
2. decide each: stop it (its deal closed, its address unsubscribed or gone), complete it (no step left), wait
   (outside its send window, or its sender's daily limit reached: `next_due_at` moves to the next opening), or run
   its next step;
3. insert a step run per step to run, `ON CONFLICT (enrolment_id, position) DO NOTHING RETURNING`: a step whose
   row exists already is not run again, whatever happened before;
4. stage the mails of the step runs inserted (their `crm_mails` rows and mail outbox rows) and add their tasks;
5. move each enrolment to its next step (due after that step's delay, in its window), count the sender's mails;
6. COMMIT. Everything above happens with it, or nothing does: a crash before it leaves the enrolments due (run
   again from scratch, once); after it, the step runs exist and the enrolments have moved on.

The mail goes out later, from the outbox (docs/mail.md: its sender's one window is one message).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import Select, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from crm.automation.api import Links as TaskLinks
from crm.companies.api import Company, Contact
from crm.deals.api import Deal, DealStatus
from crm.leads.api import Lead
from crm.mail import api as mail
from crm.sequences.models import (
    Enrolment,
    EnrolmentStatus,
    RunOutcome,
    SendCount,
    Sequence,
    SequenceStep,
    StepKind,
    StepRun,
    StopReason,
)
from crm.sequences.repository import SequenceRepository
from crm.sequences.service import send_calendar
from crm.settings import CrmSettings
from crm.tasks.api import add_step_task
from throughline_messaging.uow import UnitOfWork
from throughline_platform import failpoints
from throughline_platform.mail.templates import TemplateProblem

log = structlog.get_logger(__name__)

# Fault injection (tests/fault/test_sequence_faults.py): die with the batch staged but not committed, or right after
# its COMMIT.
FAILPOINT_BEFORE_COMMIT = "sequences.before_commit"
FAILPOINT_AFTER_COMMIT = "sequences.after_commit"


@dataclass
class RunResult:
    mails: int = 0
    tasks: int = 0
    skipped: int = 0
    waiting: int = 0
    completed: int = 0
    stopped: int = 0

    @property
    def handled(self) -> int:
        return self.mails + self.tasks + self.skipped + self.waiting + self.completed + self.stopped


@dataclass
class _World:
    """What a batch's enrolments refer to, loaded set-wise."""

    sequences: dict[uuid.UUID, Sequence]
    steps: dict[tuple[uuid.UUID, int], SequenceStep]
    contacts: dict[uuid.UUID, Contact]
    leads: dict[uuid.UUID, Lead]
    companies: dict[uuid.UUID, Company]
    deals: dict[uuid.UUID, Deal]
    templates: dict[uuid.UUID, mail.EmailTemplate]
    owners: dict[str, mail.Owner]
    withdrawn: set[str]


def _due(now: datetime, batch_size: int) -> Select[Enrolment]:
    """The due active enrolments of active sequences, oldest due first, locked (others skip them)."""
    return (select(Enrolment)
            .where(Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.next_due_at <= now,
                   Enrolment.sequence_id.in_(select(Sequence.id).where(Sequence.active)))
            .order_by(Enrolment.next_due_at, Enrolment.id)
            .limit(batch_size)
            .with_for_update(of=Enrolment, skip_locked=True))


async def _load(uow: UnitOfWork, enrolments: list[Enrolment]) -> _World:
    session = uow.session
    repository = SequenceRepository(session)
    sequences = await repository.many({e.sequence_id for e in enrolments})
    steps = {(s.sequence_id, s.position): s for rows in (await repository.steps(set(sequences))).values()
             for s in rows}
    contact_ids = {e.contact_id for e in enrolments if e.contact_id}
    lead_ids = {e.lead_id for e in enrolments if e.lead_id}
    deal_ids = {e.deal_id for e in enrolments if e.deal_id}
    contacts = {c.id: c for c in (await session.execute(select(Contact).where(
        Contact.id.in_(contact_ids), Contact.deleted_at.is_(None)))).scalars()} if contact_ids else {}
    leads = {x.id: x for x in (await session.execute(select(Lead).where(
        Lead.id.in_(lead_ids), Lead.deleted_at.is_(None)))).scalars()} if lead_ids else {}
    company_ids = {c.company_id for c in contacts.values() if c.company_id}
    companies = {c.id: c for c in (await session.execute(select(Company).where(
        Company.id.in_(company_ids), Company.deleted_at.is_(None)))).scalars()} if company_ids else {}
    deals = {d.id: d for d in (await session.execute(select(Deal).where(Deal.id.in_(deal_ids)))).scalars()} \
        if deal_ids else {}
    template_ids = {steps[(e.sequence_id, e.next_position)].template_id for e in enrolments
                    if (e.sequence_id, e.next_position) in steps} - {None}
    templates = await mail.TemplateRepository(session).many({t for t in template_ids if t is not None})
    profiles = await mail.SenderRepository(session).many({e.owner_id for e in enrolments})
    owners = {user: mail.Owner(p.name, p.email) for user, p in profiles.items()}
    addresses = {c.email for c in contacts.values() if c.email} | {x.email for x in leads.values() if x.email}
    withdrawn = await mail.ConsentRepository(session).withdrawn(addresses)
    return _World(sequences, steps, contacts, leads, companies, deals, templates, owners, withdrawn)


async def _remaining_today(uow: UnitOfWork, senders: set[str], day: Any, limit: int) -> dict[str, int]:
    """How many more sequence mails each sender may send today, as counted so far. Read without a lock: the batch
    adds its own mails at its end with `_count`, which refuses the batch if another scheduler used the same budget
    meanwhile (so two schedulers build their batches side by side, and wait for each other only for that UPDATE)."""
    rows = await uow.session.execute(select(SendCount.sender_id, SendCount.sent).where(
        SendCount.day == day, SendCount.sender_id.in_(senders)))
    sent = {sender: count for sender, count in rows.tuples()}
    return {sender: max(0, limit - sent.get(sender, 0)) for sender in senders}


class LimitRaced(Exception):
    """Another scheduler sent for the same sender meanwhile and this batch would pass the daily limit: the batch is
    rolled back and run again with the new counts."""


_COUNT = text("""
    INSERT INTO sequence_send_counts (sender_id, day, sent)
    SELECT v.sender_id, :day, v.n FROM unnest(CAST(:senders AS text[]), CAST(:counts AS int[])) AS v(sender_id, n)
    ORDER BY v.sender_id
    ON CONFLICT (sender_id, day) DO UPDATE SET sent = sequence_send_counts.sent + excluded.sent
    RETURNING sender_id, sent""")


async def _count(uow: UnitOfWork, sent_by: dict[str, int], day: Any, limit: int) -> None:
    """Add the batch's mails to its senders' counts (rows locked until COMMIT, in sender order: no deadlock between
    schedulers); LimitRaced if that passes a limit."""
    if not sent_by:
        return
    senders = sorted(sent_by)
    rows = await uow.session.execute(_COUNT, {"day": day, "senders": senders,
                                              "counts": [sent_by[s] for s in senders]})
    over = [sender for sender, sent in rows.tuples() if sent > limit]
    if over:
        raise LimitRaced(f"the daily limit of {limit} would be passed for {len(over)} senders")


def _stop(enrolment: Enrolment, reason: StopReason, now: datetime) -> None:
    enrolment.status, enrolment.stop_reason = EnrolmentStatus.STOPPED, reason
    enrolment.finished_at = enrolment.updated_at = now
    enrolment.next_due_at = enrolment.waiting_reason = None


def _wait(enrolment: Enrolment, until: datetime, why: str, now: datetime) -> None:
    enrolment.next_due_at, enrolment.waiting_reason, enrolment.updated_at = until, why, now


async def run_due_steps(uow: UnitOfWork, settings: CrmSettings, now: datetime, *,
                        batch_size: int | None = None) -> RunResult:
    """Run one batch of due steps and commit (see the module's docstring). Call again while it handles any."""
    session = uow.session
    enrolments = list((await session.execute(_due(now, batch_size or settings.sequence_batch_size))).scalars())
    result = RunResult()
    if not enrolments:
        return result
    world = await _load(uow, enrolments)
    day = now.date()  # the daily limit counts UTC days
    remaining = await _remaining_today(uow, {e.owner_id for e in enrolments}, day,
                                       settings.sequence_daily_limit_per_sender)
    tomorrow = datetime.combine(day + timedelta(days=1), time(0), now.tzinfo)
    signer = settings.link_signer()
    runs: list[dict[str, Any]] = []
    drafts: dict[uuid.UUID, mail.Draft] = {}  # by mail id
    tasks: dict[tuple[uuid.UUID, int], dict[str, Any]] = {}  # by (enrolment, position)
    advanced: list[tuple[Enrolment, SequenceStep]] = []
    sent_by: dict[str, int] = {}
    for enrolment in enrolments:
        sequence = world.sequences[enrolment.sequence_id]
        step = world.steps.get((sequence.id, enrolment.next_position))
        if step is None:  # no step left (the sequence was shortened, or this was the last)
            enrolment.status, enrolment.finished_at, enrolment.updated_at = EnrolmentStatus.COMPLETED, now, now
            enrolment.next_due_at = enrolment.waiting_reason = None
            result.completed += 1
            continue
        contact = world.contacts.get(enrolment.contact_id) if enrolment.contact_id else None
        lead = world.leads.get(enrolment.lead_id) if enrolment.lead_id else None
        deal = world.deals.get(enrolment.deal_id) if enrolment.deal_id else None
        address = contact.email if contact else lead.email if lead else None
        if deal is not None and deal.status in (DealStatus.WON, DealStatus.LOST):
            _stop(enrolment, StopReason.DEAL_WON if deal.status == DealStatus.WON else StopReason.DEAL_LOST, now)
            result.stopped += 1
            continue
        if not address:
            _stop(enrolment, StopReason.NO_ADDRESS, now)
            result.stopped += 1
            continue
        if address.lower() in world.withdrawn:
            _stop(enrolment, StopReason.UNSUBSCRIBED, now)
            result.stopped += 1
            continue
        enrolment.email = address
        company = world.companies.get(contact.company_id) if contact and contact.company_id else None
        calendar = send_calendar(settings, sequence, contact, company)
        opening = calendar.next_opening(now)
        if opening > now:
            _wait(enrolment, opening, f"outside the send window ({sequence.window_start_hour}:00-"
                                      f"{sequence.window_end_hour}:00 {calendar.time_zone.key}, business days only: "
                                      f"{sequence.business_days_only})", now)
            result.waiting += 1
            continue
        if step.kind == StepKind.EMAIL:
            if remaining.get(enrolment.owner_id, 0) <= 0:
                _wait(enrolment, calendar.next_opening(tomorrow),
                      f"the sender's daily limit of {settings.sequence_daily_limit_per_sender} mails is reached", now)
                result.waiting += 1
                continue
            template = world.templates.get(step.template_id) if step.template_id else None
            mail_id = uuid.uuid4()
            try:
                if template is None:
                    raise TemplateProblem("the step's template is gone", part="subject", line=None)
                rendered = mail.as_template(template).render(mail.context(
                    contact=contact, lead=lead, company=company, deal=deal, owner=world.owners.get(enrolment.owner_id)))
            except TemplateProblem as problem:  # a template that no longer renders: skip the step, go on
                runs.append(_run(enrolment, step, RunOutcome.SKIPPED, now, error=str(problem)))
                advanced.append((enrolment, step))
                result.skipped += 1
                continue
            remaining[enrolment.owner_id] -= 1
            sent_by[enrolment.owner_id] = sent_by.get(enrolment.owner_id, 0) + 1
            owner = world.owners.get(enrolment.owner_id)
            drafts[mail_id] = mail.Draft(
                to_address=address, to_name=contact.full_name if contact else lead.full_name if lead else "",
                rendered=rendered, links=mail.Links(contact_id=enrolment.contact_id,
                                                    company_id=company.id if company else None,
                                                    deal_id=enrolment.deal_id, lead_id=enrolment.lead_id),
                sender_name=owner.name if owner else None, sent_by=enrolment.owner_id, template_id=step.template_id,
                enrolment_id=enrolment.id, sequence_id=sequence.id, step_position=step.position,
                unsubscribe_url=mail.unsubscribe_url(settings, mail_id, signer), mail_id=mail_id)
            runs.append(_run(enrolment, step, RunOutcome.MAIL_STAGED, now, mail_id=mail_id))
        else:
            task_id = uuid.uuid4()
            tasks[(enrolment.id, step.position)] = {"task_id": task_id, "title": step.task_title or "Follow up",
                              "due_at": now + timedelta(hours=step.task_due_in_hours or 0),
                              "assignee_id": enrolment.owner_id,
                              "links": TaskLinks(company_id=company.id if company else None,
                                                 contact_id=enrolment.contact_id, deal_id=enrolment.deal_id,
                                                 lead_id=enrolment.lead_id),
                              "created_by": "sequence", "created_at": now}
            runs.append(_run(enrolment, step, RunOutcome.TASK_CREATED, now, task_id=task_id))
        advanced.append((enrolment, step))
    claimed = await _claim(uow, runs)
    # A run whose row existed already happened before: nothing of it is done again.
    drafts = {m: d for m, d in drafts.items() if (d.enrolment_id, d.step_position) in claimed}
    await mail.stage(session, list(drafts.values()), settings, now)
    for key, task in tasks.items():
        if key in claimed:
            add_step_task(session, **task)
            result.tasks += 1
    result.mails = len(drafts)
    for enrolment, step in advanced:
        _advance(settings, world, enrolment, step, now, result)
    await session.flush()
    await _count(uow, sent_by, day, settings.sequence_daily_limit_per_sender)
    failpoints.hit(FAILPOINT_BEFORE_COMMIT)
    await uow.commit()
    failpoints.hit(FAILPOINT_AFTER_COMMIT)
    return result


def _run(enrolment: Enrolment, step: SequenceStep, outcome: RunOutcome, now: datetime, *,
         mail_id: uuid.UUID | None = None, task_id: uuid.UUID | None = None, error: str | None = None
         ) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "enrolment_id": enrolment.id, "position": step.position, "step_id": step.id,
            "kind": step.kind, "outcome": outcome.value, "mail_id": mail_id, "task_id": task_id, "error": error,
            "ran_at": now, "created_at": now, "updated_at": now}


async def _claim(uow: UnitOfWork, runs: list[dict[str, Any]]) -> set[tuple[uuid.UUID, int]]:
    """Insert the step runs; the (enrolment, position) pairs that were not there yet, which are the ones to do."""
    if not runs:
        return set()
    rows = await uow.session.execute(pg_insert(StepRun).values(runs).on_conflict_do_nothing(
        constraint="uq_sequence_step_runs_enrolment_position").returning(StepRun.enrolment_id, StepRun.position))
    claimed = set(rows.tuples())
    if len(claimed) != len(runs):
        log.warning("sequence_steps_ran_before", count=len(runs) - len(claimed))
    return claimed


def _advance(settings: CrmSettings, world: _World, enrolment: Enrolment, step: SequenceStep, now: datetime,
             result: RunResult) -> None:
    """Past `step`: due for the next one after its delay (in the window), or completed."""
    sequence = world.sequences[enrolment.sequence_id]
    following = world.steps.get((sequence.id, step.position + 1))
    enrolment.next_position = step.position + 1
    enrolment.waiting_reason, enrolment.updated_at = None, now
    if following is None:
        enrolment.status, enrolment.finished_at, enrolment.next_due_at = EnrolmentStatus.COMPLETED, now, None
        result.completed += 1
        return
    contact = world.contacts.get(enrolment.contact_id) if enrolment.contact_id else None
    company = world.companies.get(contact.company_id) if contact and contact.company_id else None
    enrolment.next_due_at = send_calendar(settings, sequence, contact, company).due_after(now, following.delay_days)


async def next_due(uow: UnitOfWork) -> datetime | None:
    """When the earliest active enrolment of an active sequence is due (the scheduler sleeps until then at most; a
    paused sequence's wait for it to be resumed, whose NOTIFY wakes the scheduler)."""
    return (await uow.session.execute(select(func.min(Enrolment.next_due_at)).where(
        Enrolment.status == EnrolmentStatus.ACTIVE,
        Enrolment.sequence_id.in_(select(Sequence.id).where(Sequence.active))))).scalar()
