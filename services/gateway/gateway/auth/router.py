import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import service
from gateway.auth.tokens import TokenIssuer
from gateway.db import User
from gateway.deps import CurrentUser, db_session, token_issuer
from throughline_messaging.problems import Unauthorized

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
    full_name: str | None = None


def _tokens(issuer: TokenIssuer, user: User) -> TokenOut:
    return TokenOut(
        access_token=issuer.access_token(user_id=str(user.id), email=user.email, role=user.role),
        expires_in=int(issuer.access_ttl.total_seconds()),
        refresh_token=issuer.refresh_token(user_id=str(user.id)),
    )


@router.post("/token", response_model=TokenOut, summary="Log in (OAuth2 password flow)")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()],
                session: Annotated[AsyncSession, Depends(db_session)],
                issuer: Annotated[TokenIssuer, Depends(token_issuer)]) -> TokenOut:
    user = await service.authenticate(session, form.username, form.password)
    return _tokens(issuer, user)


@router.post("/refresh", response_model=TokenOut, summary="Trade a refresh token for new tokens")
async def refresh(refresh_token: Annotated[str, Form(max_length=4096)],
                  session: Annotated[AsyncSession, Depends(db_session)],
                  issuer: Annotated[TokenIssuer, Depends(token_issuer)]) -> TokenOut:
    user_id = issuer.read_refresh_token(refresh_token)
    user = await session.get(User, uuid.UUID(user_id))
    if user is None or not user.active:
        raise Unauthorized("The user of this refresh token no longer exists or is disabled.")
    return _tokens(issuer, user)


@router.get("/me", response_model=MeOut, summary="Who the token belongs to")
async def me(principal: CurrentUser, request: Request) -> MeOut:
    return MeOut(id=principal.user_id, email=principal.email, role=principal.role)


