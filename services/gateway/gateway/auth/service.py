"""Users: logging in, the first admin, token refresh."""

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth.passwords import hash_password, verify_password
from gateway.db import User
from throughline_messaging.problems import Unauthorized

log = structlog.get_logger(__name__)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(func.lower(User.email) == email.lower()))).scalars().first()


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await user_by_email(session, email)
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        raise Unauthorized("Wrong email or password.", type_slug="invalid-credentials")
    return user


async def ensure_admin(session: AsyncSession, email: str, password: str) -> bool:
    """Create the configured admin if no user has that email yet. Returns True when it was created."""
    if await user_by_email(session, email) is not None:
        return False
    session.add(User(email=email, password_hash=hash_password(password), full_name="Administrator", role="admin"))
    await session.commit()
    log.info("admin_created", email=email)
    return True
