import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import service
from gateway.auth.deps import Checks, ClientAddress
from gateway.auth.policies import PolicyTables
from gateway.credentials.tokens import TokenIssuer
from gateway.db import User
from gateway.deps import Revocations, db_session, token_issuer
from gateway.openapi_support import problem_responses
from gateway.policy import Anyone
from throughline_platform.policy import merged_actions
from throughline_platform.problems import Forbidden

router = APIRouter(prefix="/api/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str


class MeOut(BaseModel):
    id: str
    email: str
    role: str
    kind: str
    actions: list[str] = Field(description="Every action of every service's policy that this role may do "
                                           "(`GET /api/auth/policy` has the tables)")
    actions_incomplete: list[str] = Field(description="Services whose policy could not be read just now")
    password_change_required: bool = Field(False, description="The password fails the policy (the configured "
                                                                "first admin's): the web app asks for a new one")
    full_name: str | None = Field(None, description="The user's name as the admin entered it (none for an API key)")


class PasswordChangeIn(BaseModel):
    """Passwords as typed: never trimmed (gateway/credentials/passwords.py normalises them)."""

    model_config = ConfigDict(extra="forbid")
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    new_password: Annotated[str, StringConstraints(min_length=8, max_length=200)]


class PolicyOut(BaseModel):
    services: dict[str, dict[str, list[str]]] = Field(description="Per service: action -> the roles that may do it")
    unavailable: list[str] = Field(description="Services whose policy could not be read just now")


async def _tokens(session: AsyncSession, issuer: TokenIssuer, user: User, refresh_token: str | None = None
                  ) -> TokenOut:
    if refresh_token is None:
        refresh_token = await service.issue_refresh_token(session, issuer, user)
        await session.commit()
    return TokenOut(
        access_token=issuer.access_token(user_id=str(user.id), email=user.email, role=user.role),
        expires_in=int(issuer.access_ttl.total_seconds()),
        refresh_token=refresh_token,
    )


@router.post("/token", response_model=TokenOut, summary="Log in (OAuth2 password flow)",
             description="Throttled per account and per client address: after a few wrong passwords each further "
                         "attempt must wait twice as long as the one before (429 with `Retry-After`).",
             responses=problem_responses(401, 422, 429), openapi_extra={"security": []})
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()],
                session: Annotated[AsyncSession, Depends(db_session)],
                issuer: Annotated[TokenIssuer, Depends(token_issuer)], checks: Checks,
                address: ClientAddress) -> TokenOut:
    user = await service.authenticate(session, checks, form.username, form.password, address)
    return await _tokens(session, issuer, user)


@router.post("/password", response_model=TokenOut, responses=problem_responses(401, 403, 422, 429),
             summary="Change one's own password; ends every session of the account and returns new tokens for this one",
             description="`current_password` is checked (and throttled) like a login; `new_password` must meet the "
                         "policy (8 to 200 characters, not a common password, not the email). Every refresh and "
                         "access token of the account stops working, this session's too: use the tokens returned.")
async def change_password(body: PasswordChangeIn, principal: Anyone, checks: Checks, address: ClientAddress,
                          session: Annotated[AsyncSession, Depends(db_session)],
                          issuer: Annotated[TokenIssuer, Depends(token_issuer)],
                          revocations: Revocations) -> TokenOut:
    if principal.kind != "user":
        raise Forbidden("An API key has no password.")
    user, refresh_token = await service.change_own_password(
        session, checks, revocations, issuer, principal.user_id, body.current_password, body.new_password, address)
    return await _tokens(session, issuer, user, refresh_token)


@router.post("/refresh", response_model=TokenOut, responses=problem_responses(401, 422),
             summary="Trade a refresh token for new tokens (the old refresh token stops working)",
             openapi_extra={"security": []})
async def refresh(refresh_token: Annotated[str, Form(min_length=1, max_length=4096)],
                  session: Annotated[AsyncSession, Depends(db_session)],
                  issuer: Annotated[TokenIssuer, Depends(token_issuer)]) -> TokenOut:
    user, successor = await service.rotate_refresh_token(session, issuer, refresh_token)
    return await _tokens(session, issuer, user, successor)


@router.post("/logout", status_code=204, response_class=Response, responses=problem_responses(401, 422),
             summary="Revoke a refresh token and every token rotated from the same login",
             openapi_extra={"security": []})
async def logout(refresh_token: Annotated[str, Form(min_length=1, max_length=4096)],
                 session: Annotated[AsyncSession, Depends(db_session)],
                 issuer: Annotated[TokenIssuer, Depends(token_issuer)]) -> Response:
    await service.revoke_refresh_token(session, issuer, refresh_token)
    return Response(status_code=204)


def _policy_tables(request: Request) -> PolicyTables:
    tables: PolicyTables = request.app.state.policy_tables
    return tables


Tables = Annotated[PolicyTables, Depends(_policy_tables)]


@router.get("/me", response_model=MeOut, summary="Who the token (or API key) belongs to, and what it may do",
            responses=problem_responses(401, 429))
async def me(principal: Anyone, tables: Tables, session: Annotated[AsyncSession, Depends(db_session)]) -> MeOut:
    services, missing = await tables.tables(principal)
    user = await _user_row(session, principal.user_id, principal.kind)
    return MeOut(id=principal.user_id, email=principal.email, role=principal.role, kind=principal.kind,
                 actions=merged_actions(services.values(), principal.role), actions_incomplete=missing,
                 password_change_required=bool(user is not None and user.password_change_required),
                 full_name=user.full_name if user is not None else None)


async def _user_row(session: AsyncSession, user_id: str, kind: str) -> User | None:
    if kind != "user":
        return None  # an API key has no user row
    try:
        return await session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None


@router.get("/policy", response_model=PolicyOut, summary="Who may do what: every service's policy table",
            responses=problem_responses(401, 429))
async def policy(principal: Anyone, tables: Tables) -> PolicyOut:
    services, missing = await tables.tables(principal)
    return PolicyOut(services=services, unavailable=missing)
