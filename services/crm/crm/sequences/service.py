"""Sequences: their steps, enrolling contacts and leads (by hand, by an automation rule), stopping enrolments (by
hand, on a reply, an unsubscribe, a bounce, the deal won or lost), and each enrolment's steps as they stand.

The steps themselves are run by the scheduler (`runner.py`).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.automation.api import RuleEnrolment
from crm.companies.api import Company, CompanyRepository, Contact, ContactRepository
from crm.db import utcnow
from crm.deals.api import DealRepository, DealStatus
from crm.leads.api import Lead, LeadRepository
from crm.mail import api as mail
from crm.sequences.calendar import SendCalendar
from crm.sequences.models import Enrolment, EnrolmentStatus, Sequence, SequenceStep, StepKind, StopReason
from crm.sequences.repository import EnrolmentRepository, SequenceRepository
from crm.sequences.schemas import EnrolIn, SequenceIn, SequencePatch, StepIn
from crm.settings import CrmSettings, get_settings
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, Unprocessable

log = structlog.get_logger(__name__)

# The channel the schedulers LISTEN on: an enrolment whose first step is due now wakes them at COMMIT.
WAKE_CHANNEL = "crm_sequences"


# --- sequences ---------------------------------------------------------------------------------------------


async def _check_templates(session: AsyncSession, steps: list[StepIn]) -> None:
    wanted = {s.template_id for s in steps if s.template_id is not None}
    found = await mail.TemplateRepository(session).many(wanted)
    for position, step in enumerate(steps, start=1):
        if step.template_id is not None and step.template_id not in found:
            raise Unprocessable(f"steps[{position}].template_id: template {step.template_id} does not exist.")


def _new_steps(sequence_id: uuid.UUID, steps: list[StepIn], now: datetime) -> list[SequenceStep]:
    return [SequenceStep(id=uuid.uuid4(), sequence_id=sequence_id, position=position, kind=step.kind,
                         delay_days=step.delay_days, template_id=step.template_id, task_title=step.task_title,
                         task_due_in_hours=step.task_due_in_hours if step.kind == "task" else None,
                         created_at=now, updated_at=now)
            for position, step in enumerate(steps, start=1)]


async def create_sequence(uow: UnitOfWork, data: SequenceIn, created_by: str) -> Sequence:
    session = uow.session
    sequences = SequenceRepository(session)
    if await sequences.by_name(data.name) is not None:
        raise Conflict(f"A sequence named {data.name!r} exists already.", type_slug="duplicate-sequence")
    await _check_templates(session, data.steps)
    now = utcnow()
    sequence = Sequence(id=uuid.uuid4(), name=data.name, description=data.description, active=data.active,
                        window_start_hour=data.window_start_hour, window_end_hour=data.window_end_hour,
                        business_days_only=data.business_days_only, created_by=created_by, created_at=now,
                        updated_at=now)
    sequences.add(sequence)
    await session.flush()
    session.add_all(_new_steps(sequence.id, data.steps, now))
    await uow.commit()
    return sequence


async def get_sequence(uow: UnitOfWork, sequence_id: uuid.UUID, *, for_update: bool = False) -> Sequence:
    sequence = await SequenceRepository(uow.session).get(sequence_id, for_update=for_update)
    if sequence is None:
        raise NotFound(f"Sequence {sequence_id} does not exist.")
    return sequence


async def update_sequence(uow: UnitOfWork, sequence_id: uuid.UUID, patch: SequencePatch) -> Sequence:
    session = uow.session
    sequence = await get_sequence(uow, sequence_id, for_update=True)
    changes = patch.model_dump(exclude_unset=True, exclude={"steps"})
    for required in ("name", "active", "window_start_hour", "window_end_hour", "business_days_only"):
        if required in changes and changes[required] is None:
            raise Unprocessable(f"{required}: cannot be null.")
    renamed = "name" in changes and changes["name"].lower() != sequence.name.lower()
    if renamed and await SequenceRepository(session).by_name(changes["name"]) is not None:
        raise Conflict(f"A sequence named {changes['name']!r} exists already.", type_slug="duplicate-sequence")
    start = changes.get("window_start_hour", sequence.window_start_hour)
    end = changes.get("window_end_hour", sequence.window_end_hour)
    if start >= end:
        raise Unprocessable("the send window must start before it ends (window_start_hour < window_end_hour)")
    now = utcnow()
    for field, value in changes.items():
        setattr(sequence, field, value)
    if patch.steps is not None:
        await _check_templates(session, patch.steps)
        await session.execute(text("DELETE FROM sequence_steps WHERE sequence_id = :id"), {"id": sequence.id})
        session.add_all(_new_steps(sequence.id, patch.steps, now))
    if changes.get("active"):
        await session.execute(select(func.pg_notify(WAKE_CHANNEL, "")))  # steps that came due while paused
    sequence.updated_at = now
    await uow.commit()
    return sequence


async def sequence_view(uow: UnitOfWork, sequences: list[Sequence]) -> list[dict[str, Any]]:
    repository = SequenceRepository(uow.session)
    ids = {s.id for s in sequences}
    steps = await repository.steps(ids)
    counts = await repository.enrolment_counts(ids)
    return [{"id": s.id, "name": s.name, "description": s.description, "active": s.active,
             "window_start_hour": s.window_start_hour, "window_end_hour": s.window_end_hour,
             "business_days_only": s.business_days_only, "steps": steps[s.id], "enrolments": counts[s.id],
             "created_by": s.created_by, "created_at": s.created_at, "updated_at": s.updated_at}
            for s in sequences]


async def sequence_exists(session: AsyncSession, sequence_id: uuid.UUID) -> bool:
    """The automation rules' question (their port `sequence_exists`)."""
    return await SequenceRepository(session).get(sequence_id) is not None


# --- calendars ---------------------------------------------------------------------------------------------


def send_calendar(settings: CrmSettings, sequence: Sequence, contact: Contact | None,
                  company: Company | None) -> SendCalendar:
    """The contact's time zone, else its company's, else the default; the company's country, else the default."""
    time_zone = (contact.time_zone if contact else None) or (company.time_zone if company else None) \
        or settings.default_time_zone
    country = (company.country if company else None) or settings.default_country
    return SendCalendar.of(time_zone, country, business_days_only=sequence.business_days_only,
                           window=(sequence.window_start_hour, sequence.window_end_hour))


# --- enrolling ---------------------------------------------------------------------------------------------


@dataclass
class Person:
    contact: Contact | None
    lead: Lead | None
    company: Company | None

    @property
    def email(self) -> str | None:
        return self.contact.email if self.contact else self.lead.email if self.lead else None


async def _person(session: AsyncSession, contact_id: uuid.UUID | None, lead_id: uuid.UUID | None) -> Person | None:
    if contact_id is not None:
        contact = await ContactRepository(session).get(contact_id)
        if contact is None:
            return None
        company = await CompanyRepository(session).get(contact.company_id) if contact.company_id else None
        return Person(contact, None, company)
    assert lead_id is not None
    lead = await LeadRepository(session).get(lead_id)
    return Person(None, lead, None) if lead is not None else None


async def _new_enrolment(session: AsyncSession, settings: CrmSettings, sequence: Sequence, person: Person, *,
                         deal_id: uuid.UUID | None, owner_id: str, enrolled_by: str | None, via: str,
                         now: datetime) -> Enrolment | None:
    """Insert an active enrolment whose first step is due (in the window) after its delay; None when the person is
    already active in the sequence (the partial unique index decides, whatever races)."""
    steps = (await SequenceRepository(session).steps({sequence.id}))[sequence.id]
    assert person.email is not None
    first = steps[0] if steps else None
    due = send_calendar(settings, sequence, person.contact, person.company).due_after(
        now, first.delay_days) if first else now
    enrolment_id = uuid.uuid4()
    values = {
        "id": enrolment_id, "sequence_id": sequence.id, "contact_id": person.contact.id if person.contact else None,
        "lead_id": person.lead.id if person.lead else None, "deal_id": deal_id, "email": person.email,
        "owner_id": owner_id, "status": EnrolmentStatus.ACTIVE, "next_position": 1, "next_due_at": due,
        "enrolled_by": enrolled_by, "enrolled_via": via, "created_at": now, "updated_at": now}
    which = ("contact_id", "status = 'active' AND contact_id IS NOT NULL") if person.contact else (
        "lead_id", "status = 'active' AND lead_id IS NOT NULL")
    inserted = (await session.execute(pg_insert(Enrolment).values(**values).on_conflict_do_nothing(
        index_elements=["sequence_id", which[0]], index_where=text(which[1])).returning(Enrolment.id))).first()
    if inserted is None:
        return None
    if due <= now:
        await session.execute(select(func.pg_notify(WAKE_CHANNEL, "")))  # delivered at COMMIT
    return await EnrolmentRepository(session).get(enrolment_id)


async def enrol(uow: UnitOfWork, sequence_id: uuid.UUID, data: EnrolIn, principal: Principal,
                settings: CrmSettings) -> Enrolment:
    """Enrol by hand: the caller is the sender (their name on the mail, their daily limit)."""
    session = uow.session
    sequence = await get_sequence(uow, sequence_id)
    if not sequence.active:
        raise Conflict(f"The sequence {sequence.name!r} is paused; resume it first.", type_slug="sequence-paused")
    person = await _person(session, data.contact_id, data.lead_id)
    if person is None:
        what = f"contact_id: contact {data.contact_id}" if data.contact_id else f"lead_id: lead {data.lead_id}"
        raise Unprocessable(f"{what} does not exist.")
    if not person.email:
        raise Unprocessable("The contact has no email address to send the sequence to.", type_slug="no-recipient")
    if await mail.ConsentRepository(session).withdrawn({person.email}):
        raise Conflict(f"{person.email} unsubscribed: a sequence never mails them again.",
                       type_slug="unsubscribed")
    if data.deal_id is not None:
        deal = await DealRepository(session).get(data.deal_id)
        if deal is None:
            raise Unprocessable(f"deal_id: deal {data.deal_id} does not exist.")
        if deal.status != DealStatus.OPEN:
            raise Conflict(f"The deal is {deal.status}: its enrolments would stop at once.", type_slug="deal-closed")
    now = utcnow()
    await mail.SenderRepository(session).remember(principal.user_id, principal.email or "", now)
    enrolment = await _new_enrolment(session, settings, sequence, person, deal_id=data.deal_id,
                                     owner_id=principal.user_id, enrolled_by=principal.user_id, via="hand", now=now)
    if enrolment is None:
        raise Conflict("Already enrolled in this sequence (and not finished).", type_slug="already-enrolled")
    await uow.commit()
    return enrolment


async def enrol_from_rule(session: AsyncSession, request: RuleEnrolment) -> None:
    """The automation engine's port `enrol_in_sequence`: like enrolling by hand, but what cannot be done (no
    address, unsubscribed, already enrolled, paused) is logged and skipped, never failing the change that fired."""
    links = request.links
    sequence = await SequenceRepository(session).get(request.sequence_id)
    person = await _person(session, links.contact_id, None if links.contact_id else links.lead_id)
    why = ("the sequence is gone" if sequence is None else "the sequence is paused" if not sequence.active
           else "nobody to enrol (the deal has no contact)" if person is None
           else "no email address" if not person.email
           else "unsubscribed" if await mail.ConsentRepository(session).withdrawn({person.email}) else None)
    if why is not None or sequence is None or person is None:
        log.info("sequence_enrolment_skipped", rule_id=str(request.rule_id), sequence_id=str(request.sequence_id),
                 reason=why)
        return
    enrolment = await _new_enrolment(session, get_settings(), sequence, person, deal_id=links.deal_id,
                                     owner_id=request.owner_id or "automation", enrolled_by="automation",
                                     via="automation", now=request.created_at)
    if enrolment is None:
        log.info("sequence_enrolment_skipped", rule_id=str(request.rule_id), reason="already enrolled")


# --- stopping ----------------------------------------------------------------------------------------------

_STOP = text("""
    UPDATE sequence_enrolments SET status = 'stopped', stop_reason = :reason, finished_at = now(), next_due_at = NULL,
                                   waiting_reason = NULL, updated_at = now()
    WHERE status = 'active' AND (contact_id = ANY(CAST(:contacts AS uuid[])) OR lead_id = ANY(CAST(:leads AS uuid[]))
                                 OR lower(email) = ANY(CAST(:emails AS text[])) OR id = ANY(CAST(:ids AS uuid[])))
    RETURNING id""")


async def stop_enrolments(session: AsyncSession, request: mail.StopRequest) -> int:
    """Stop the active enrolments of these people (the mail package's port `stop_sequences`); how many stopped."""
    result = await session.execute(_STOP, {
        "reason": request.reason, "contacts": list(request.contact_ids), "leads": list(request.lead_ids),
        "emails": [e.lower() for e in request.emails], "ids": list(request.enrolment_ids)})
    stopped = len(result.all())
    if stopped:
        log.info("sequence_enrolments_stopped", reason=request.reason, count=stopped)
    return stopped


async def get_enrolment(uow: UnitOfWork, enrolment_id: uuid.UUID, *, for_update: bool = False) -> Enrolment:
    enrolment = await EnrolmentRepository(uow.session).get(enrolment_id, for_update=for_update)
    if enrolment is None:
        raise NotFound(f"Enrolment {enrolment_id} does not exist.")
    return enrolment


async def stop_by_hand(uow: UnitOfWork, enrolment_id: uuid.UUID) -> Enrolment:
    enrolment = await get_enrolment(uow, enrolment_id, for_update=True)
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise Conflict(f"The enrolment is {enrolment.status} already.", type_slug="enrolment-finished")
    enrolment.status, enrolment.stop_reason = EnrolmentStatus.STOPPED, StopReason.BY_HAND
    enrolment.finished_at = enrolment.updated_at = utcnow()
    enrolment.next_due_at, enrolment.waiting_reason = None, None
    await uow.commit()
    return enrolment


_STOP_CLOSED_DEALS = text("""
    UPDATE sequence_enrolments e SET status = 'stopped', finished_at = now(), next_due_at = NULL,
           waiting_reason = NULL, updated_at = now(),
           stop_reason = CASE WHEN d.status = 'won' THEN 'deal_won' ELSE 'deal_lost' END
    FROM deals d
    WHERE e.deal_id = d.id AND e.status = 'active' AND e.deal_id IS NOT NULL AND d.status IN ('won', 'lost')""")


async def stop_for_closed_deals(session: AsyncSession) -> int:
    """Stop the enrolments whose deal was won or lost (each scheduler pass; the step run checks it too)."""
    result = await session.execute(_STOP_CLOSED_DEALS)
    return int(getattr(result, "rowcount", 0) or 0)


# --- what an enrolment's steps stand at -----------------------------------------------------------------------


async def enrolment_views(uow: UnitOfWork, enrolments: list[Enrolment]) -> list[dict[str, Any]]:
    session = uow.session
    sequences = await SequenceRepository(session).many({e.sequence_id for e in enrolments})
    steps = await SequenceRepository(session).steps(set(sequences))
    runs = await EnrolmentRepository(session).runs([e.id for e in enrolments])
    mail_ids = {r.mail_id for rs in runs.values() for r in rs if r.mail_id is not None}
    statuses = await mail.MailRepository(session).statuses(mail_ids)
    now = utcnow()
    views = []
    for e in enrolments:
        done = {r.position: r for r in runs[e.id]}
        lines = []
        positions = sorted({*(s.position for s in steps.get(e.sequence_id, [])), *done})
        kinds = {s.position: s.kind for s in steps.get(e.sequence_id, [])}
        for position in positions:
            run = done.get(position)
            if run is not None:
                status = (statuses.get(run.mail_id, "queued") if run.mail_id else
                          "task_created" if run.kind == StepKind.TASK and run.outcome == "task_created" else "skipped")
                lines.append({"position": position, "kind": run.kind, "status": status, "ran_at": run.ran_at,
                              "mail_id": run.mail_id, "task_id": run.task_id, "error": run.error})
            elif e.status == EnrolmentStatus.ACTIVE and position == e.next_position:
                due = e.next_due_at
                lines.append({"position": position, "kind": kinds[position], "due_at": due,
                              "status": "due" if due is not None and due <= now else "scheduled"})
            else:
                lines.append({"position": position, "kind": kinds.get(position, "email"),
                              "status": "later" if e.status == EnrolmentStatus.ACTIVE else "not_run"})
        sequence = sequences.get(e.sequence_id)
        views.append({
            "id": e.id, "sequence_id": e.sequence_id, "sequence_name": sequence.name if sequence else "",
            "contact_id": e.contact_id, "lead_id": e.lead_id, "deal_id": e.deal_id, "email": e.email,
            "owner_id": e.owner_id, "status": e.status, "stop_reason": e.stop_reason, "next_position": e.next_position,
            "next_due_at": e.next_due_at, "waiting_reason": e.waiting_reason, "enrolled_by": e.enrolled_by,
            "enrolled_via": e.enrolled_via, "created_at": e.created_at, "finished_at": e.finished_at, "steps": lines})
    return views
