import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apikeys import service
from gateway.apikeys.repository import ApiKeyRepository
from gateway.apikeys.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPage
from gateway.deps import db_session
from gateway.openapi_support import problem_responses
from gateway.policy import KeyAdmin
from gateway.security import ApiKeyAuthenticator

router = APIRouter(prefix="/api/auth/api-keys", tags=["api keys"], responses=problem_responses(401, 403, 422, 429))
Session = Annotated[AsyncSession, Depends(db_session)]


@router.post("", status_code=201, response_model=ApiKeyCreated,
             summary="Create an API key (admin); the key is in this response only")
async def create_key(body: ApiKeyIn, principal: KeyAdmin, session: Session) -> ApiKeyCreated:
    key, raw = await service.create_key(session, body, principal.user_id)
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(key).model_dump(), "key": raw})


@router.get("", response_model=ApiKeyPage, summary="List API keys (admin); never shows the keys themselves")
async def list_keys(principal: KeyAdmin, session: Session, revoked: bool | None = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ApiKeyPage:
    items, total = await ApiKeyRepository(session).search(revoked=revoked, limit=limit, offset=offset)
    return ApiKeyPage(items=[ApiKeyOut.model_validate(k) for k in items], total=total, limit=limit, offset=offset)


@router.get("/{key_id}", response_model=ApiKeyOut, summary="One API key (admin)", responses=problem_responses(404))
async def get_key(key_id: uuid.UUID, principal: KeyAdmin, session: Session) -> ApiKeyOut:
    return ApiKeyOut.model_validate(await service.get_key(session, key_id))


@router.delete("/{key_id}", status_code=204, response_class=Response, summary="Revoke an API key (admin)",
               responses=problem_responses(404))
async def revoke_key(key_id: uuid.UUID, principal: KeyAdmin, session: Session, request: Request) -> Response:
    await service.revoke_key(session, key_id)
    authenticator: ApiKeyAuthenticator = request.app.state.api_keys
    authenticator.forget(key_id)
    return Response(status_code=204)
