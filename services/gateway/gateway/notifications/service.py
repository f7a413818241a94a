"""The bell's list: each service computes what needs the caller from its own data (GET /api/crm/notifications,
GET /api/erp/notifications, asked in parallel with the caller's token, so each answers for exactly that user and
role), and the gateway adds the one thing it keeps: which of them the user has marked read.

Why computed rather than a table fed by a consumer (docs/decisions.md, 107): the services already hold the truth the
events carried (a lead's owner, a task's due time, an expense's state, an invoice's balance), so a notification
is there exactly while it needs the user and leaves once it is handled, with nothing to deliver once and only
once, no second copy of the data to keep in step, and no consumer in the gateway (which consumes no outbox).
A service that does not answer leaves its part out and is named in `unavailable`; the rest still shows."""

import asyncio
from datetime import timedelta
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import NotificationRead, utcnow
from gateway.notifications.schemas import NotificationOut, Notifications
from gateway.proxy.upstreams import Upstream, UpstreamError

log = structlog.get_logger(__name__)

SOURCES = {"crm": "/api/crm/notifications", "erp": "/api/erp/notifications"}
# Read marks older than this are dropped: the notification they mark is long handled (its key changes if it comes
# back: a task moved, an expense submitted again).
KEEP_READ = timedelta(days=90)


async def _fetch(upstream: Upstream, path: str, headers: list[tuple[str, str]]) -> list[dict[str, Any]] | None:
    try:
        response = await upstream.send("GET", path, headers=headers)
    except UpstreamError as exc:
        log.warning("notifications_unavailable", upstream=exc.upstream, detail=exc.detail)
        return None
    if response.status_code == 403:
        return []  # the caller's role reads nothing there (a member in the CRM): it has no notification of it
    if response.status_code != 200:
        log.warning("notifications_refused", path=path, status=response.status_code)
        return None
    body = response.json()
    items = body.get("items") if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else None


async def collect(upstreams: dict[str, Upstream], headers: list[tuple[str, str]], session: AsyncSession,
                  user_id: str) -> Notifications:
    names = list(SOURCES)
    answers = await asyncio.gather(*(_fetch(upstreams[n], SOURCES[n], headers) for n in names))
    raw: list[dict[str, Any]] = []
    unavailable = []
    for name, answer in zip(names, answers, strict=True):
        if answer is None:
            unavailable.append(name)
        else:
            raw += answer
    keys = [str(item.get("key")) for item in raw]
    read: set[str] = set()
    if keys:
        read = set((await session.execute(select(NotificationRead.key).where(
            NotificationRead.user_id == user_id, NotificationRead.key.in_(keys)))).scalars())
    items = []
    for item in raw:
        try:
            items.append(NotificationOut.model_validate({**item, "read": item.get("key") in read}))
        except ValidationError:
            log.warning("notification_malformed", key=item.get("key"))
    items.sort(key=lambda n: n.at, reverse=True)
    return Notifications(items=items, unread=sum(not n.read for n in items), unavailable=unavailable)


async def mark_read(session: AsyncSession, user_id: str, keys: list[str]) -> None:
    """Mark `keys` read for the user (again is harmless), and drop the user's marks older than KEEP_READ."""
    now = utcnow()
    rows = [{"user_id": user_id, "key": key[:300], "read_at": now} for key in dict.fromkeys(keys)]
    await session.execute(insert(NotificationRead).values(rows).on_conflict_do_nothing())
    await session.execute(delete(NotificationRead).where(NotificationRead.user_id == user_id,
                                                         NotificationRead.read_at < now - KEEP_READ))
    await session.commit()
