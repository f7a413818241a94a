"""Users: logging in (throttled), changing one's own password, the first admin, refresh tokens (rotated,
revocable), ending a user's sessions."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth.throttle import HashingGate, LoginThrottle
from gateway.credentials.passwords import (
    WeakPassword,
    check_new_password,
    hash_password,
    legacy_forms,
    needs_rehash,
    normalise,
    verify_password,
)
from gateway.credentials.tokens import TokenIssuer
from gateway.db import RefreshToken, User
from gateway.sessions import SessionRevocations
from gateway.user_events import user_created
from throughline_platform.problems import Unauthorized

log = structlog.get_logger(__name__)

# New passwords have at most 200 characters; the configured first admin's may be longer, but not this long.
MAX_LOGIN_PASSWORD = 1024


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(func.lower(User.email) == email.lower()))).scalars().first()


@dataclass
class PasswordChecks:
    """What guards the password check: the throttle (per account and address) and the gate on Argon2 work."""

    throttle: LoginThrottle
    gate: HashingGate


async def _password_matches(checks: PasswordChecks, password_hash: str | None, password: str) -> str | None:
    """The form of `password` that matches the hash (its normalised form, or a form an older version hashed), or
    None. Argon2 runs in a worker thread (tens of milliseconds of CPU that would otherwise stall every request the
    gateway is proxying meanwhile), behind the gate."""
    async with checks.gate.slot():
        normalised = normalise(password)
        if await asyncio.to_thread(verify_password, password_hash, normalised):
            return normalised
        for form in legacy_forms(password) if password_hash else ():
            if await asyncio.to_thread(verify_password, password_hash, form):
                return form
    return None


async def authenticate(session: AsyncSession, checks: PasswordChecks, email: str, password: str, address: str
                       ) -> User:
    """The active user with these credentials (a hash with outdated parameters or of a legacy form is replaced;
    the caller commits). The throttle counts the attempt first: a refused one costs no Argon2 work."""
    email = email.strip()
    checks.throttle.begin(email, address)
    if len(password) > MAX_LOGIN_PASSWORD:  # no password that long was ever set: not worth hashing
        raise Unauthorized("Wrong email or password.", type_slug="invalid-credentials")
    user = await user_by_email(session, email)
    matched = await _password_matches(checks, user.password_hash if user else None, password)
    if matched is None or user is None or not user.active:
        raise Unauthorized("Wrong email or password.", type_slug="invalid-credentials")
    checks.throttle.succeeded(email, address)
    normalised = normalise(password)
    if matched != normalised or needs_rehash(user.password_hash):
        async with checks.gate.slot():
            user.password_hash = await asyncio.to_thread(hash_password, normalised)
    return user


async def change_own_password(session: AsyncSession, checks: PasswordChecks, revocations: SessionRevocations,
                              issuer: TokenIssuer, user_id: str, current: str, new: str, address: str
                              ) -> tuple[User, str]:
    """Self-service: the current password (throttled like a login), then the new one (the policy). Every session
    of the user ends, this one included; this one gets a new refresh token in the same transaction (returned)."""
    try:
        user = await session.get(User, uuid.UUID(user_id))
    except ValueError:
        user = None
    if user is None or not user.active:
        raise Unauthorized("This account no longer exists or is disabled.", type_slug="account-disabled")
    checks.throttle.begin(user.email, address)
    if await _password_matches(checks, user.password_hash, current) is None:
        raise Unauthorized("The current password is wrong.", type_slug="invalid-credentials")
    checks.throttle.succeeded(user.email, address)
    normalised = check_new_password(new, user.email)
    if normalised == normalise(current):
        raise WeakPassword("The new password must differ from the current one.")
    async with checks.gate.slot():
        user.password_hash = await asyncio.to_thread(hash_password, normalised)
    user.password_change_required = False
    ended_at = await end_sessions(session, user)
    refresh_token = await issue_refresh_token(session, issuer, user)
    await session.commit()
    revocations.note(user.id, ended_at)
    log.info("password_changed", user_id=str(user.id))
    return user, refresh_token


async def ensure_admin(session: AsyncSession, email: str, password: str) -> bool:
    """Create the configured admin if no user has that email yet. Returns True when it was created.

    `ADMIN_PASSWORD` is configuration, not a password set through the API: it is taken as it is, so that a local
    `make run` keeps its documented admin / admin. When it fails the policy the admin is flagged: the web app asks
    for a new password at every login until it is changed, and the gateway says so in its log."""
    if await user_by_email(session, email) is not None:
        return False
    try:
        check_new_password(password, email)
        weak = False
    except WeakPassword as exc:
        weak = True
        log.warning("admin_password_fails_policy", email=email, reason=exc.detail,
                    hint="log in and change it (the web app asks), or set ADMIN_PASSWORD before the first start")
    admin = User(email=email, password_hash=hash_password(normalise(password)), full_name="Administrator",
                 role="admin", password_change_required=weak)
    session.add(admin)
    await user_created(session, admin)  # the first admin is a person of the ERP too
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


async def end_sessions(session: AsyncSession, user: User) -> datetime:
    """Every session of the user ends (the caller commits, then tells `SessionRevocations.note`): their refresh
    tokens are revoked, and their access tokens issued until now are refused from now on."""
    now = datetime.now(UTC)
    await session.execute(update(RefreshToken).where(RefreshToken.user_id == user.id,
                                                     RefreshToken.revoked_at.is_(None))
                          .values(revoked_at=now))
    user.sessions_revoked_at = now
    return now
