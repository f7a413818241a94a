"""The gateway's user events -> the people directory. The consumer's inbox makes each effect happen once; each
event carries the user's time of change, so a late (replayed) one never undoes a newer state."""

from erp.people import service
from throughline_events.gateway import UserCreatedV1, UserDeactivatedV1, UserUpdatedV1
from throughline_messaging.consumer import HandlerContext


async def on_user_changed(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, UserCreatedV1 | UserUpdatedV1)
    changed_at = p.created_at if isinstance(p, UserCreatedV1) else p.updated_at
    await service.apply_user_state(ctx.uow, person_id=str(p.user_id), email=p.email, name=p.full_name or p.email,
                                   role=p.role, active=p.active, changed_at=changed_at)


async def on_user_deactivated(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, UserDeactivatedV1)
    await service.deactivate(ctx.uow, str(p.user_id), p.deactivated_at)
