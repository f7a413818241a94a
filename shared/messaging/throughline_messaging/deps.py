"""FastAPI dependencies every service uses: the unit of work and the calling principal."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from throughline_messaging.auth import Principal, TokenVerifier, principal_dependency
from throughline_messaging.runtime import ServiceRuntime
from throughline_messaging.uow import UnitOfWork


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier


async def _unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    async with _runtime(request).uow() as uow:
        yield uow


UoW = Annotated[UnitOfWork, Depends(_unit_of_work)]
CurrentPrincipal = Annotated[Principal, Depends(principal_dependency(_verifier))]
