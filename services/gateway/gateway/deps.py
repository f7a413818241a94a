from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.credentials.tokens import TokenIssuer
from gateway.sessions import SessionRevocations


def token_issuer(request: Request) -> TokenIssuer:
    issuer: TokenIssuer = request.app.state.issuer
    return issuer


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        yield session


def session_revocations(request: Request) -> SessionRevocations:
    revocations: SessionRevocations = request.app.state.revocations
    return revocations


Revocations = Annotated[SessionRevocations, Depends(session_revocations)]
