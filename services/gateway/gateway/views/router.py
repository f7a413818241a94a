import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.deps import db_session
from gateway.openapi_support import problem_responses
from gateway.policy import ViewKeeper
from gateway.views import service
from gateway.views.repository import SavedViewRepository
from gateway.views.schemas import ListName, ViewIn, ViewList, ViewOut, ViewPatch

router = APIRouter(prefix="/api/views", tags=["saved views"], responses=problem_responses(401, 403, 422, 429))
Session = Annotated[AsyncSession, Depends(db_session)]


@router.get("", response_model=ViewList, summary="My saved views (of one list, or all)")
async def list_views(principal: ViewKeeper, session: Session, list: ListName | None = None) -> ViewList:
    views = await SavedViewRepository(session).of(principal.user_id, list)
    return ViewList(items=[ViewOut.model_validate(v) for v in views])


@router.post("", status_code=201, response_model=ViewOut, summary="Save a view: a name for a list's filters",
             responses=problem_responses(409))
async def create_view(body: ViewIn, principal: ViewKeeper, session: Session) -> ViewOut:
    return ViewOut.model_validate(await service.create(session, principal.user_id, body))


@router.get("/{view_id}", response_model=ViewOut, summary="One of my saved views", responses=problem_responses(404))
async def get_view(view_id: uuid.UUID, principal: ViewKeeper, session: Session) -> ViewOut:
    return ViewOut.model_validate(await service.get(session, principal.user_id, view_id))


@router.patch("/{view_id}", response_model=ViewOut, summary="Rename a saved view or change its filters",
              responses=problem_responses(404, 409))
async def update_view(view_id: uuid.UUID, body: ViewPatch, principal: ViewKeeper, session: Session) -> ViewOut:
    return ViewOut.model_validate(await service.update(session, principal.user_id, view_id, body))


@router.delete("/{view_id}", status_code=204, response_class=Response, summary="Delete a saved view",
               responses=problem_responses(404))
async def delete_view(view_id: uuid.UUID, principal: ViewKeeper, session: Session) -> Response:
    await service.delete(session, principal.user_id, view_id)
    return Response(status_code=204)
