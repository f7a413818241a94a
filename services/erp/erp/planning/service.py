"""Bookings: a person on a project (or an open deal) for a week, tentative or confirmed. A booking beyond the
person's capacity is allowed and flagged (`over_capacity`). Every change records booking.changed in its transaction.
The planning board: people x weeks, capacity, booked (tentative bookings on deals weighted by probability), actual."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from erp.db import utcnow
from erp.people.api import require_active_person
from erp.pipeline.api import DealStatus, PipelineRepository
from erp.planning.models import Booking, BookingStatus
from erp.planning.repository import BookingRepository, WeekLoad
from erp.planning.schemas import BookingIn, BookingPatch
from erp.projects.api import Project, ProjectRepository, ProjectStatus
from throughline_events.erp import BookingChangedV1
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, Unprocessable

CLOSED = (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED)  # projects nobody is booked on any more
MAX_BOARD_WEEKS = 52


def as_stored(hours: Decimal) -> Decimal:
    """Hours as the column keeps them: "16" is sent as "16.00"."""
    return hours.quantize(Decimal("0.01"))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def get(uow: UnitOfWork, booking_id: uuid.UUID) -> Booking:
    booking = await BookingRepository(uow.session).get(booking_id)
    if booking is None:
        raise NotFound(f"Booking {booking_id} does not exist.")
    return booking


async def _open_project(uow: UnitOfWork, project_id: uuid.UUID) -> Project:
    project = await ProjectRepository(uow.session).get(project_id)
    if project is None:
        raise Unprocessable(f"Project {project_id} does not exist.", type_slug="unknown-project")
    if project.status in CLOSED:
        raise Conflict(f"Project {project.name} is {project.status}: nobody is booked on it any more.",
                       type_slug="project-closed")
    return project


async def _open_deal(uow: UnitOfWork, deal_id: uuid.UUID) -> None:
    deal = (await PipelineRepository(uow.session).by_ids({deal_id})).get(deal_id)
    if deal is None or deal.title is None:
        raise Unprocessable(f"Deal {deal_id} is not an open deal the ERP knows (GET /api/erp/open-deals).",
                            type_slug="unknown-deal")
    if deal.status == DealStatus.WON:
        raise Conflict(f"Deal {deal.title} is won: book its project (or staff it from the deal's bookings).",
                       type_slug="deal-won")
    if deal.status == DealStatus.LOST:
        raise Conflict(f"Deal {deal.title} is lost: nobody is booked on it.", type_slug="deal-lost")


def _record(booking: Booking, change: Literal["created", "updated", "deleted"], load: WeekLoad,
            principal: Principal) -> None:
    booking.record(BookingChangedV1(
        booking_id=booking.id, change=change, person_id=booking.person_id, project_id=booking.project_id,
        deal_id=booking.deal_id, week=booking.week, hours=booking.hours, status=booking.status,
        over_capacity=load.over_capacity, changed_by=principal.user_id, changed_at=utcnow()))


async def create(uow: UnitOfWork, body: BookingIn, principal: Principal) -> tuple[Booking, WeekLoad]:
    await require_active_person(uow.session, body.person_id)
    if body.project_id is not None:
        await _open_project(uow, body.project_id)
    else:
        assert body.deal_id is not None  # BookingIn names one of the two
        await _open_deal(uow, body.deal_id)
    bookings = BookingRepository(uow.session)
    booking = Booking(id=uuid.uuid4(), person_id=body.person_id, project_id=body.project_id, deal_id=body.deal_id,
                      week=body.week, hours=as_stored(body.hours), status=body.status, note=body.note,
                      created_by=principal.user_id, updated_by=principal.user_id)
    bookings.add(booking)
    load = (await bookings.week_loads({(booking.person_id, booking.week)}))[booking.person_id, booking.week]
    _record(booking, "created", load, principal)
    await uow.commit()
    return booking, load


async def _locked(bookings: BookingRepository, booking_id: uuid.UUID) -> Booking:
    booking = await bookings.locked(booking_id)
    if booking is None:
        raise NotFound(f"Booking {booking_id} does not exist.")
    return booking


async def update(uow: UnitOfWork, booking_id: uuid.UUID, body: BookingPatch,
                 principal: Principal) -> tuple[Booking, WeekLoad]:
    bookings = BookingRepository(uow.session)
    booking = await _locked(bookings, booking_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("week", "hours", "status"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"{field} cannot be null.")
    if changes.get("status") == BookingStatus.CONFIRMED and booking.project_id is None:
        raise Unprocessable("A booking on a deal is tentative until the deal is won and its project staffed from it.",
                            type_slug="deal-booking-tentative")
    if booking.project_id is not None:
        await _open_project(uow, booking.project_id)
    if changes.get("hours") is not None:
        changes["hours"] = as_stored(changes["hours"])
    for field, value in changes.items():
        setattr(booking, field, value)
    booking.updated_by = principal.user_id
    load = (await bookings.week_loads({(booking.person_id, booking.week)}))[booking.person_id, booking.week]
    _record(booking, "updated", load, principal)
    await uow.commit()
    return booking, load


async def delete(uow: UnitOfWork, booking_id: uuid.UUID, principal: Principal) -> None:
    bookings = BookingRepository(uow.session)
    booking = await _locked(bookings, booking_id)
    pair = (booking.person_id, booking.week)
    load = (await bookings.week_loads({pair}, excluding=booking.id))[pair]  # the week as it is without it
    _record(booking, "deleted", load, principal)
    await bookings.delete(booking)
    await uow.commit()


async def staff_from_deal(uow: UnitOfWork, project_id: uuid.UUID, confirm: bool,
                          principal: Principal) -> list[Booking]:
    """A won deal's project is staffed from the deal's bookings: each becomes the project's (keeping its deal as
    where it came from), confirmed unless `confirm` is false. Bookings already given to the project stay as they
    are, so staffing twice changes nothing the second time."""
    project = await _open_project(uow, project_id)
    if project.deal_id is None:
        raise Unprocessable(f"Project {project.name} was not made from a deal: there are no deal bookings to staff "
                            "it from.", type_slug="project-without-deal")
    bookings = BookingRepository(uow.session)
    moved = await bookings.of_deal_unstaffed(project.deal_id)
    for booking in moved:
        booking.project_id = project.id
        if confirm:
            booking.status = BookingStatus.CONFIRMED
        booking.updated_by = principal.user_id
    loads = await bookings.week_loads({(b.person_id, b.week) for b in moved}) if moved else {}
    for booking in moved:
        _record(booking, "updated", loads[booking.person_id, booking.week], principal)
    await uow.commit()
    return moved


async def board_json(uow: UnitOfWork, from_week: date, weeks: int) -> str:
    """The planning board (schemas.Board) as JSON text, built by the database (decision 148)."""
    if from_week.isoweekday() != 1:
        raise Unprocessable(f"from_week: a week is given by its Monday; {from_week} is a {from_week.strftime('%A')}.")
    return await BookingRepository(uow.session).board_json(from_week, weeks)
