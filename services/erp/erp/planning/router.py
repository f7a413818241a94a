import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from erp.clock import today
from erp.planning import service
from erp.planning.models import Booking
from erp.planning.repository import BookingRepository, WeekLoad
from erp.planning.schemas import Board, BookingIn, BookingOut, BookingPage, BookingPatch, BookingWritten, StaffFromDeal
from erp.policy import BookingWriter, Reader
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp", tags=["planning"])


def _written(booking: Booking, load: WeekLoad) -> BookingWritten:
    return BookingWritten(**BookingOut.model_validate(booking).model_dump(), over_capacity=load.over_capacity,
                          week_booked=load.booked, week_capacity=load.capacity)


@router.get("/bookings", response_model=BookingPage, summary="Bookings, filterable by person, project, deal, weeks")
async def list_bookings(uow: ReadUoW, principal: Reader,
                        person_id: Annotated[str | None, Query(max_length=64)] = None,
                        project_id: uuid.UUID | None = None, deal_id: uuid.UUID | None = None,
                        week_from: BusinessDate | None = None, week_to: BusinessDate | None = None,
                        limit: Annotated[int, Query(ge=1, le=500)] = 100,
                        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> BookingPage:
    items, total = await BookingRepository(uow.session).search(
        person_id=person_id, project_id=project_id, deal_id=deal_id, week_from=week_from, week_to=week_to,
        limit=limit, offset=offset)
    return BookingPage(items=[BookingOut.model_validate(b) for b in items], total=total, limit=limit, offset=offset)


@router.post("/bookings", status_code=201, response_model=BookingWritten,
             summary="Book a person on a project or an open deal for a week (beyond capacity: allowed, flagged)",
             responses=problem_responses(409, _409="The project is closed, or the deal won or lost"))
async def create_booking(body: BookingIn, uow: UoW, principal: BookingWriter) -> BookingWritten:
    return _written(*await service.create(uow, body, principal))


@router.get("/bookings/{booking_id}", response_model=BookingOut, summary="One booking")
async def get_booking(booking_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> BookingOut:
    return BookingOut.model_validate(await service.get(uow, booking_id))


@router.patch("/bookings/{booking_id}", response_model=BookingWritten,
              summary="Change a booking's week, hours, status or note",
              responses=problem_responses(409, _409="The project is closed"))
async def update_booking(booking_id: uuid.UUID, body: BookingPatch, uow: UoW,
                         principal: BookingWriter) -> BookingWritten:
    return _written(*await service.update(uow, booking_id, body, principal))


@router.delete("/bookings/{booking_id}", status_code=204, summary="Remove a booking")
async def delete_booking(booking_id: uuid.UUID, uow: UoW, principal: BookingWriter) -> Response:
    await service.delete(uow, booking_id, principal)
    return Response(status_code=204)


@router.post("/projects/{project_id}/staff-from-deal", response_model=list[BookingOut],
             summary="Staff a won deal's project from the deal's bookings: they become the project's",
             responses=problem_responses(409, _409="The project is closed"))
async def staff_from_deal(project_id: uuid.UUID, uow: UoW, principal: BookingWriter,
                          body: StaffFromDeal | None = None) -> list[BookingOut]:
    confirm = body.confirm if body is not None else True
    return [BookingOut.model_validate(b) for b in await service.staff_from_deal(uow, project_id, confirm, principal)]


@router.get("/planning", response_model=Board,
            summary="The planning board: people x weeks, capacity, booked (tentative on deals weighted), actual")
async def planning_board(uow: ReadUoW, principal: Reader, from_week: BusinessDate | None = None,
                         weeks: Annotated[int, Query(ge=1, le=service.MAX_BOARD_WEEKS)] = 26) -> Response:
    # The database builds the JSON (decision 148): returned as it is, not parsed into `Board` and serialised again.
    board = await service.board_json(uow, from_week or service.monday_of(today()), weeks)
    return Response(content=board, media_type="application/json")
