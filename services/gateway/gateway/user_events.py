"""The gateway's users as events (issue 23): the ERP keeps its people directory from them.

Each event is written to the gateway's own outbox in the same transaction as the change to the user that caused
it, so a user is never created, changed or turned off without its event, nor an event published for a change that
was rolled back; the gateway's relay (`gateway.relay`, `python -m gateway relay`) publishes the outbox to
`gateway.user.events`, keyed by the user's id. The caller commits.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import User, outbox, utcnow
from throughline_events.envelope import EventPayload
from throughline_events.gateway import UserCreatedV1, UserDeactivatedV1, UserUpdatedV1
from throughline_messaging.aggregate import RecordedEvent
from throughline_messaging.uow import OutboxWriter

SERVICE = "gateway"
# The relay of the same service listens on this channel (ServiceRuntime names it `outbox_<service>`).
WRITER = OutboxWriter(SERVICE, outbox, notify_channel=f"outbox_{SERVICE}")


async def _stage(session: AsyncSession, *payloads: EventPayload) -> None:
    await WRITER.stage(session, [RecordedEvent(payload) for payload in payloads])


async def user_created(session: AsyncSession, user: User) -> None:
    await session.flush()  # the id and created_at are given at the flush
    await _stage(session, UserCreatedV1(user_id=user.id, email=user.email, full_name=user.full_name, role=user.role,
                                        active=user.active, created_at=user.created_at))


async def user_changed(session: AsyncSession, user: User, *, deactivated: bool) -> None:
    """`user.updated` with the user as they are now; `user.deactivated` as well when this change turned them off."""
    updated = UserUpdatedV1(user_id=user.id, email=user.email, full_name=user.full_name, role=user.role,
                            active=user.active, updated_at=user.updated_at)
    if deactivated:
        await _stage(session, updated, UserDeactivatedV1(user_id=user.id, deactivated_at=utcnow()))
    else:
        await _stage(session, updated)
