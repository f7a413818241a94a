import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth.deps import Checks
from gateway.credentials.tokens import TokenIssuer
from gateway.deps import Revocations, db_session, token_issuer
from gateway.openapi_support import problem_responses
from gateway.policy import DirectoryReader, UserAdmin
from gateway.users import service
from gateway.users.repository import UserRepository
from gateway.users.schemas import (
    ColleagueOut,
    PasswordIn,
    PasswordLinkOut,
    Role,
    SetPasswordIn,
    SetPasswordOut,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
)

router = APIRouter(prefix="/api/auth/users", tags=["users"], responses=problem_responses(401, 403, 422, 429))
links_router = APIRouter(prefix="/api/auth", tags=["users"])
Session = Annotated[AsyncSession, Depends(db_session)]
Issuer = Annotated[TokenIssuer, Depends(token_issuer)]


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


@router.post("/{user_id}/password-link", response_model=PasswordLinkOut, responses=problem_responses(404, 409),
             summary="A one-time set-password link for the user (admin): to invite them, or when they forgot it",
             description="Nothing changes until the link is used: the current password (if any) keeps working. The "
                         "link works once (any new password voids it) and until `expires_at` "
                         "(GATEWAY_PASSWORD_LINK_HOURS). Give it to the user: it is as good as a password.")
async def password_link(user_id: uuid.UUID, principal: UserAdmin, session: Session, issuer: Issuer,
                        request: Request) -> PasswordLinkOut:
    hours = request.app.state.settings.password_link_hours
    token, expires_at = await service.password_link(session, issuer, user_id, timedelta(hours=hours))
    return PasswordLinkOut(token=token, path=f"/#/set-password?token={token}", expires_at=expires_at)


@links_router.post("/set-password", response_model=SetPasswordOut, openapi_extra={"security": []},
                   responses=problem_responses(403, 410, 422),
                   summary="Set one's password with a set-password link (no token needed); ends every other session")
async def set_password(body: SetPasswordIn, session: Session, issuer: Issuer, revocations: Revocations,
                       checks: Checks) -> SetPasswordOut:
    user = await service.set_password_with_link(session, revocations, issuer, body.token, body.password)
    checks.throttle.forget_account(user.email)
    return SetPasswordOut(email=user.email)


@links_router.get("/directory", response_model=list[ColleagueOut], responses=problem_responses(401, 429),
                  summary="The active users, to choose an owner or an assignee (every role)")
async def directory(principal: DirectoryReader, session: Session) -> list[ColleagueOut]:
    return [ColleagueOut.model_validate(u) for u in await UserRepository(session).active()]
