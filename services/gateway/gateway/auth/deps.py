"""What the login and password endpoints depend on: the password checks (throttle, Argon2 gate) and the client's
address as the throttle counts it."""

from typing import Annotated

from fastapi import Depends, Request

from gateway.auth.service import PasswordChecks
from gateway.ratelimit import address_key


def password_checks(request: Request) -> PasswordChecks:
    checks: PasswordChecks = request.app.state.password_checks
    return checks


def client_address(request: Request) -> str:
    """The address uvicorn settled on (behind a trusted proxy, the client it names; gateway/auth/throttle.py)."""
    return address_key(request.client.host if request.client else None)


Checks = Annotated[PasswordChecks, Depends(password_checks)]
ClientAddress = Annotated[str, Depends(client_address)]
