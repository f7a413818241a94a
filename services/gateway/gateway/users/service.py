"""User management by admins: create, change role or active flag, reset a password.

Rules: emails are unique (case-insensitive); passwords meet the policy (gateway/credentials/passwords.py);
there is always at least one active admin, and admins may not demote or disable themselves. Disabling a user,
changing their role or resetting their password ends every session of that user at once: their refresh tokens are
revoked and their access tokens refused from then on (gateway/sessions.py), their live stream included.
"""

import asyncio
import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth.service import end_sessions
from gateway.credentials.passwords import check_new_password, hash_password
from gateway.credentials.tokens import TokenIssuer
from gateway.db import User, utcnow
from gateway.sessions import SessionRevocations
from gateway.user_events import user_changed, user_created
from gateway.users.repository import UserRepository
from gateway.users.schemas import UserIn, UserPatch
from throughline_platform.problems import Conflict, Forbidden, NotFound


async def create_user(session: AsyncSession, data: UserIn) -> User:
    users = UserRepository(session)
    # An invited user (no password given) gets a random one nobody ever sees: the account opens only through a
    # set-password link.
    password = (check_new_password(data.password, data.email) if data.password is not None
                else secrets.token_urlsafe(32))
    if await users.by_email(data.email) is not None:
        raise Conflict(f"A user with the email {data.email} already exists.", type_slug="email-taken")
    user = User(email=data.email, password_hash=await asyncio.to_thread(hash_password, password),
                full_name=data.full_name, role=data.role, active=True)
    try:
        await users.add(user)
        await user_created(session, user)
        await session.commit()
    except IntegrityError:  # a concurrent create won the race
        await session.rollback()
        raise Conflict(f"A user with the email {data.email} already exists.", type_slug="email-taken") from None
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


async def update_user(session: AsyncSession, revocations: SessionRevocations, user_id: uuid.UUID, data: UserPatch,
                      acting_user_id: str) -> User:
    users = UserRepository(session)
    user = await get_user(session, user_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    loses_admin = user.role == "admin" and user.active and (
        changes.get("role", "admin") != "admin" or changes.get("active", True) is False)
    if loses_admin and str(user.id) == acting_user_id:
        raise Conflict("Admins may not demote or disable themselves; ask another admin.", type_slug="self-lockout")
    if loses_admin and await users.active_admins() <= 1:
        raise Conflict("This is the last active admin: make another admin first.", type_slug="last-admin")
    # Any role change ends the sessions (not only a demotion: roles are not ordered, and a token's role is all the
    # services see); so does disabling. The user logs in again and gets a token with the role they have now.
    ends_sessions = (changes.get("role", user.role) != user.role) or (user.active and changes.get("active") is False)
    deactivates = user.active and changes.get("active") is False
    changed = {field: value for field, value in changes.items() if getattr(user, field) != value}
    for field, value in changed.items():
        setattr(user, field, value)
    if changed:
        user.updated_at = utcnow()
        await user_changed(session, user, deactivated=deactivates)
    ended_at = await end_sessions(session, user) if ends_sessions else None
    await session.commit()
    if ended_at is not None:
        revocations.note(user.id, ended_at)
    return user


async def reset_password(session: AsyncSession, revocations: SessionRevocations, user_id: uuid.UUID,
                         password: str) -> User:
    user = await get_user(session, user_id)
    normalised = check_new_password(password, user.email)
    user.password_hash = await asyncio.to_thread(hash_password, normalised)
    user.updated_at = utcnow()
    ended_at = await end_sessions(session, user)
    await session.commit()
    revocations.note(user.id, ended_at)
    return user


def password_fingerprint(user: User) -> str:
    """Names the password a set-password link replaces: a new password (any way) makes every earlier link void."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


async def password_link(session: AsyncSession, issuer: TokenIssuer, user_id: uuid.UUID,
                        ttl: timedelta) -> tuple[str, datetime]:
    """A one-time set-password link for an invited user, or for one who forgot their password. Making one changes
    nothing: the current password keeps working until the link is used."""
    user = await get_user(session, user_id)
    if not user.active:
        raise Conflict("This user is deactivated: activate the account first.", type_slug="user-inactive")
    token = issuer.set_password_token(user_id=str(user.id), fingerprint=password_fingerprint(user), ttl=ttl)
    return token, datetime.now(UTC) + ttl


async def set_password_with_link(session: AsyncSession, revocations: SessionRevocations, issuer: TokenIssuer,
                                 token: str, password: str) -> User:
    """The link's user gets the new password (the policy applies); every session they had ends."""
    claims = issuer.read_set_password_claims(token)
    try:
        user = await session.get(User, uuid.UUID(str(claims["sub"])))
    except ValueError:
        user = None
    if user is None or not user.active:
        raise Forbidden("This link is not valid: the account no longer exists or is deactivated.",
                        type_slug="link-invalid")
    if claims["pwf"] != password_fingerprint(user):
        raise Forbidden("This link has been used already (or the password was changed since it was made).",
                        type_slug="link-used")
    normalised = check_new_password(password, user.email)
    user.password_hash = await asyncio.to_thread(hash_password, normalised)
    user.password_change_required = False
    user.updated_at = utcnow()
    ended_at = await end_sessions(session, user)
    await session.commit()
    revocations.note(user.id, ended_at)
    return user
