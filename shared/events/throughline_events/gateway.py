"""Payloads of the events the gateway publishes (v1 of each): its users, from which the ERP keeps its people.

A user's id is also the id of the person the ERP makes of them (docs/erp-delivery.md, people). Every change to a
user publishes `user.updated` with the user's whole state (role, name, active), so a reader never needs an older
event to know where a user stands; turning a user off publishes `user.deactivated` as well.
"""

from uuid import UUID

from throughline_events.envelope import EventPayload, register
from throughline_events.types import UtcDateTime


class _UserState(EventPayload):
    user_id: UUID
    email: str
    full_name: str
    role: str
    active: bool


@register("user.created", 1, "user", "user_id")
class UserCreatedV1(_UserState):
    """An admin created a user (or the gateway made the first admin)."""

    created_at: UtcDateTime


@register("user.updated", 1, "user", "user_id")
class UserUpdatedV1(_UserState):
    """A user's role, name or active flag changed; the payload is the user as they are now."""

    updated_at: UtcDateTime


@register("user.deactivated", 1, "user", "user_id")
class UserDeactivatedV1(EventPayload):
    """A user was turned off: they can no longer log in, and nobody may book time or expenses for them."""

    user_id: UUID
    deactivated_at: UtcDateTime
