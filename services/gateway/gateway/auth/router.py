from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import service
from gateway.auth.tokens import TokenIssuer
from gateway.db import User
from gateway.deps import db_session, token_issuer
from gateway.openapi_support import problem_responses
from gateway.security import Caller

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
             responses=problem_responses(401, 422), openapi_extra={"security": []})
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()],
                session: Annotated[AsyncSession, Depends(db_session)],
                issuer: Annotated[TokenIssuer, Depends(token_issuer)]) -> TokenOut:
    user = await service.authenticate(session, form.username, form.password)
    return await _tokens(session, issuer, user)


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


@router.get("/me", response_model=MeOut, summary="Who the token (or API key) belongs to",
            responses=problem_responses(401, 429))
async def me(principal: Caller) -> MeOut:
    return MeOut(id=principal.user_id, email=principal.email, role=principal.role, kind=principal.kind)
