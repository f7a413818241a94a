import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from erp.people import service
from erp.people.schemas import PersonDetail, PersonPage, PersonPatch
from erp.policy import PeopleReader, PeopleWriter
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp/people", tags=["people"])

PersonId = Annotated[str, Path(min_length=1, max_length=64, description="The person's id: their gateway user's id")]


@router.get("", response_model=PersonPage,
            summary="The people directory, by name; rates in force today (cost rates only for finance and admin)")
async def list_people(uow: ReadUoW, principal: PeopleReader,
                      q: Annotated[str | None, Query(max_length=200, description="part of the name or email")] = None,
                      active: bool | None = None,
                      department: Annotated[str | None, Query(max_length=100)] = None,
                      cost_center_id: uuid.UUID | None = None,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> PersonPage:
    items, total = await service.list_people(uow, principal, q=q, active=active, department=department,
                                             cost_center_id=cost_center_id, limit=limit, offset=offset)
    return PersonPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{person_id}", response_model=PersonDetail, summary="One person, with the history of their rates",
            responses=problem_responses(404))
async def get_person(person_id: PersonId, uow: ReadUoW, principal: PeopleReader) -> PersonDetail:
    return await service.get_person(uow, principal, person_id)


@router.patch("/{person_id}", response_model=PersonDetail, responses=problem_responses(404),
              summary="Set a person's department, cost center, and a weekly capacity, cost rate or list rate from a "
                      "date on (finance)")
async def patch_person(person_id: PersonId, body: PersonPatch, uow: UoW, principal: PeopleWriter) -> PersonDetail:
    return await service.update_person(uow, principal, person_id, body)
