"""Sequences: ordered steps (a templated mail, or a task for the owner) with delays in business days; the contacts
or leads enrolled in them; and the one row per (enrolment, step) that makes each step happen exactly once."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, Entity


class StepKind(StrEnum):
    """The `sequence_steps.kind` column."""

    EMAIL = "email"
    TASK = "task"


class EnrolmentStatus(StrEnum):
    """The `sequence_enrolments.status` column: active until its last step ran (completed) or it was stopped."""

    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"


class StopReason(StrEnum):
    """Why an enrolment stopped (`sequence_enrolments.stop_reason`)."""

    REPLIED = "replied"
    UNSUBSCRIBED = "unsubscribed"
    DEAL_WON = "deal_won"
    DEAL_LOST = "deal_lost"
    BY_HAND = "by_hand"
    BOUNCED = "bounced"
    NO_ADDRESS = "no_address"  # the contact or lead has no email (any more), or was deleted


class RunOutcome(StrEnum):
    """What one step did (`sequence_step_runs.outcome`)."""

    MAIL_STAGED = "mail_staged"  # the mail is in the outbox; its delivery is the mail's status
    TASK_CREATED = "task_created"
    SKIPPED = "skipped"  # the template no longer renders (its error is kept); the sequence goes on


class Sequence(Entity):
    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The send window, in the recipient's local time: [start, end) hours; 0 and 24 is the whole day.
    window_start_hour: Mapped[int] = mapped_column(Integer, default=9)
    window_end_hour: Mapped[int] = mapped_column(Integer, default=17)
    # Steps go out on business days only (weekends and the country's public holidays are skipped), and delays
    # count business days; false: every day counts.
    business_days_only: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(64))


class SequenceStep(Entity):
    __tablename__ = "sequence_steps"
    __table_args__ = (UniqueConstraint("sequence_id", "position", name="uq_sequence_steps_position"),)

    sequence_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ...
    kind: Mapped[str] = mapped_column(String(10))
    # Business days (or days) after the previous step (after enrolling, for the first).
    delay_days: Mapped[int] = mapped_column(Integer, default=0)
    template_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    task_title: Mapped[str | None] = mapped_column(String(200))
    task_due_in_hours: Mapped[int | None] = mapped_column(Integer)


class Enrolment(Entity):
    """A contact or a lead going through a sequence. `next_position` is the step to run next, `next_due_at` when
    (already moved into the send window); the scheduler takes due rows with FOR UPDATE SKIP LOCKED."""

    __tablename__ = "sequence_enrolments"
    __table_args__ = (
        Index("ix_sequence_enrolments_due", "next_due_at", postgresql_where=text("status = 'active'")),
        Index("uq_sequence_enrolments_active_contact", "sequence_id", "contact_id", unique=True,
              postgresql_where=text("status = 'active' AND contact_id IS NOT NULL")),
        Index("uq_sequence_enrolments_active_lead", "sequence_id", "lead_id", unique=True,
              postgresql_where=text("status = 'active' AND lead_id IS NOT NULL")),
        Index("ix_sequence_enrolments_contact", "contact_id"),
        Index("ix_sequence_enrolments_email", text("lower(email)"), postgresql_where=text("status = 'active'")),
        Index("ix_sequence_enrolments_active_deal", "deal_id",
              postgresql_where=text("status = 'active' AND deal_id IS NOT NULL")),
    )

    sequence_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Its deal: won or lost, the enrolment stops.
    deal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The address mailed (the contact's or lead's when enrolled, kept current at each send): replies and
    # unsubscribes find the enrolment by it.
    email: Mapped[str] = mapped_column(String(320))
    # Who the mail is from, whose daily limit it counts against, and who gets the task steps.
    owner_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default=EnrolmentStatus.ACTIVE)
    stop_reason: Mapped[str | None] = mapped_column(String(20))
    next_position: Mapped[int] = mapped_column(Integer, default=1)
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why the next step waits past its due time (outside the send window, the daily limit reached).
    waiting_reason: Mapped[str | None] = mapped_column(String(200))
    enrolled_by: Mapped[str | None] = mapped_column(String(64))
    enrolled_via: Mapped[str] = mapped_column(String(20), default="hand")  # hand, automation
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StepRun(Entity):
    """A step done for an enrolment: inserted in the transaction that stages its mail (or adds its task), under a
    UNIQUE (enrolment, position), so a step happens once however many schedulers, retries and restarts there are."""

    __tablename__ = "sequence_step_runs"
    __table_args__ = (UniqueConstraint("enrolment_id", "position", name="uq_sequence_step_runs_enrolment_position"),)

    enrolment_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(20))
    mail_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    error: Mapped[str | None] = mapped_column(Text)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SendCount(Base):
    """Sequence mails a sender sent on a (UTC) day: the daily limit's counter, one row per sender and day, taken
    with a row lock by the transaction that stages the mails."""

    __tablename__ = "sequence_send_counts"

    sender_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
