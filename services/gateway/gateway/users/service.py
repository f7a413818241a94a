"""User management by admins: create, change role or active flag, reset a password.

Rules: emails are unique (case-insensitive); there is always at least one active admin, and admins may not
demote or disable themselves; disabling a user or resetting a password ends every refresh token of that user
(access tokens expire on their own within minutes).
"""

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth.service import revoke_user_tokens
from gateway.credentials.passwords import hash_password
from gateway.db import User, utcnow
from gateway.users.repository import UserRepository
from gateway.users.schemas import UserIn, UserPatch
from throughline_platform.problems import Conflict, NotFound


async def create_user(session: AsyncSession, data: UserIn) -> User:
    users = UserRepository(session)
    if await users.by_email(data.email) is not None:
        raise Conflict(f"A user with the email {data.email} already exists.", type_slug="email-taken")
    user = User(email=data.email, password_hash=hash_password(data.password), full_name=data.full_name,
                role=data.role, active=True)
    try:
        await users.add(user)
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


async def update_user(session: AsyncSession, user_id: uuid.UUID, data: UserPatch, acting_user_id: str) -> User:
    users = UserRepository(session)
    user = await get_user(session, user_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    loses_admin = user.role == "admin" and user.active and (
        changes.get("role", "admin") != "admin" or changes.get("active", True) is False)
    if loses_admin and str(user.id) == acting_user_id:
        raise Conflict("Admins may not demote or disable themselves; ask another admin.", type_slug="self-lockout")
    if loses_admin and await users.active_admins() <= 1:
        raise Conflict("This is the last active admin: make another admin first.", type_slug="last-admin")
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.updated_at = utcnow()
    if changes.get("active") is False:
        await revoke_user_tokens(session, user.id)
    await session.commit()
    return user


async def reset_password(session: AsyncSession, user_id: uuid.UUID, password: str) -> None:
    user = await get_user(session, user_id)
    user.password_hash = hash_password(password)
    user.updated_at = utcnow()
    await revoke_user_tokens(session, user.id)
    await session.commit()
