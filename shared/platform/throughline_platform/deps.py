"""FastAPI dependencies every service uses: the calling principal, verified from its bearer token."""

from typing import Annotated

from fastapi import Depends, Request

from throughline_platform.auth import Principal, TokenVerifier, principal_dependency


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier


CurrentPrincipal = Annotated[Principal, Depends(principal_dependency(_verifier))]
