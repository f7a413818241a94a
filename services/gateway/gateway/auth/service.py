"""Users: logging in, the first admin, refresh tokens (rotated, revocable)."""

import asyncio
import uuid
from datetime import UTC, datetime

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.credentials.passwords import hash_password, needs_rehash, verify_password
from gateway.credentials.tokens import TokenIssuer
from gateway.db import RefreshToken, User
from throughline_platform.problems import Unauthorized

log = structlog.get_logger(__name__)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(func.lower(User.email) == email.lower()))).scalars().first()


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The active user with these credentials (a hash with outdated parameters is replaced; the caller commits).

    Argon2 runs in a worker thread: it takes tens of milliseconds of CPU and would otherwise stall every
    request the gateway is proxying meanwhile."""
    user = await user_by_email(session, email)
    valid = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    if not valid or user is None or not user.active:
        raise Unauthorized("Wrong email or password.", type_slug="invalid-credentials")
    if needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(hash_password, password)
    return user


async def ensure_admin(session: AsyncSession, email: str, password: str) -> bool:
    """Create the configured admin if no user has that email yet. Returns True when it was created."""
    if await user_by_email(session, email) is not None:
        return False
    session.add(User(email=email, password_hash=hash_password(password), full_name="Administrator", role="admin"))
    await session.commit()
    log.info("admin_created", email=email)
    return True


async def issue_refresh_token(session: AsyncSession, issuer: TokenIssuer, user: User,
                              family_id: uuid.UUID | None = None) -> str:
    """A new refresh token, recorded by its id (the caller commits)."""
    jti = uuid.uuid4()
    now = datetime.now(UTC)
    session.add(RefreshToken(id=jti, user_id=user.id, family_id=family_id or jti, issued_at=now,
                             expires_at=now + issuer.refresh_ttl))
    return issuer.refresh_token(user_id=str(user.id), jti=str(jti))


async def rotate_refresh_token(session: AsyncSession, issuer: TokenIssuer, token: str) -> tuple[User, str]:
    """Trade a refresh token for its successor. A token used twice means it leaked: the whole family dies."""
    claims = issuer.read_refresh_claims(token)
    try:
        jti = uuid.UUID(str(claims["jti"]))
    except ValueError:
        raise Unauthorized("The refresh token is invalid.", type_slug="token-invalid") from None
    record = (await session.execute(select(RefreshToken).where(RefreshToken.id == jti).with_for_update())
              ).scalars().first()
    if record is None or record.revoked_at is not None:
        raise Unauthorized("The refresh token has been revoked; log in again.", type_slug="token-revoked")
    if record.used_at is not None:
        await revoke_family(session, record.family_id)
        await session.commit()
        log.warning("refresh_token_reused", user_id=str(record.user_id), family_id=str(record.family_id))
        raise Unauthorized("The refresh token was already used; every session of its login is now revoked.",
                           type_slug="token-reused")
    user = await session.get(User, record.user_id)
    if user is None or not user.active:
        raise Unauthorized("The user of this refresh token no longer exists or is disabled.")
    record.used_at = datetime.now(UTC)
    successor = await issue_refresh_token(session, issuer, user, record.family_id)
    await session.commit()
    return user, successor


async def revoke_refresh_token(session: AsyncSession, issuer: TokenIssuer, token: str) -> None:
    """Logout: revoke the token's whole family (this login and its rotations)."""
    claims = issuer.read_refresh_claims(token)
    try:
        jti = uuid.UUID(str(claims["jti"]))
    except ValueError:
        raise Unauthorized("The refresh token is invalid.", type_slug="token-invalid") from None
    record = await session.get(RefreshToken, jti)
    if record is not None:
        await revoke_family(session, record.family_id)
        await session.commit()


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id,
                                                     RefreshToken.revoked_at.is_(None))
                          .values(revoked_at=datetime.now(UTC)))


async def revoke_user_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(update(RefreshToken).where(RefreshToken.user_id == user_id,
                                                     RefreshToken.revoked_at.is_(None))
                          .values(revoked_at=datetime.now(UTC)))
