import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth.deps import Checks
from gateway.deps import Revocations, db_session
from gateway.openapi_support import problem_responses
from gateway.policy import UserAdmin
from gateway.users import service
from gateway.users.repository import UserRepository
from gateway.users.schemas import PasswordIn, Role, UserIn, UserOut, UserPage, UserPatch

router = APIRouter(prefix="/api/auth/users", tags=["users"], responses=problem_responses(401, 403, 422, 429))
Session = Annotated[AsyncSession, Depends(db_session)]


@router.post("", status_code=201, response_model=UserOut, summary="Create a user (admin)",
             responses=problem_responses(409))
async def create_user(body: UserIn, principal: UserAdmin, session: Session) -> UserOut:
    return UserOut.model_validate(await service.create_user(session, body))


@router.get("", response_model=UserPage, summary="List users (admin)")
async def list_users(principal: UserAdmin, session: Session,
                     q: Annotated[str | None, Query(max_length=200, description="part of the email or name")] = None,
                     role: Role | None = None, active: bool | None = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> UserPage:
    items, total = await UserRepository(session).search(q=q, role=role, active=active, limit=limit, offset=offset)
    return UserPage(items=[UserOut.model_validate(u) for u in items], total=total, limit=limit, offset=offset)


@router.get("/{user_id}", response_model=UserOut, summary="One user (admin)", responses=problem_responses(404))
async def get_user(user_id: uuid.UUID, principal: UserAdmin, session: Session) -> UserOut:
    return UserOut.model_validate(await service.get_user(session, user_id))


@router.patch("/{user_id}", response_model=UserOut, responses=problem_responses(404, 409),
              summary="Change a user's role, name or active flag (admin); a new role or disabling ends their sessions")
async def update_user(user_id: uuid.UUID, body: UserPatch, principal: UserAdmin, session: Session,
                      revocations: Revocations) -> UserOut:
    return UserOut.model_validate(await service.update_user(session, revocations, user_id, body, principal.user_id))


@router.post("/{user_id}/password", status_code=204, response_class=Response,
             summary="Set a new password (admin); ends the user's sessions", responses=problem_responses(404))
async def reset_password(user_id: uuid.UUID, body: PasswordIn, principal: UserAdmin, session: Session,
                         revocations: Revocations, checks: Checks) -> Response:
    user = await service.reset_password(session, revocations, user_id, body.password)
    checks.throttle.forget_account(user.email)
    return Response(status_code=204)
