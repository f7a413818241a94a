"""Who may do what at the gateway's own endpoints (the services keep their own tables: crm/policy.py,
erp/policy.py). docs/roles.md is generated from the three (`python -m devstack.roles_doc`).

The admin actions (users, API keys) are checked twice: the token's role by the table, then the caller's current
role and active flag in the gateway's database (`current_standing`), so that a demoted or disabled admin is refused
at once, on any replica, whatever their token still says."""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request

from gateway.security import Caller, current_standing
from throughline_platform.auth import Principal
from throughline_platform.policy import EVERYONE, Policy, rule
from throughline_platform.problems import Forbidden


class Action(StrEnum):
    ME = "gateway.me"
    CUSTOMER_OVERVIEW = "gateway.customer_overview"
    DIRECTORY = "gateway.directory"
    USERS = "gateway.users"
    API_KEYS = "gateway.api_keys"
    SENT_MAIL = "gateway.sent_mail"


POLICY = Policy("gateway", {
    Action.ME: rule(*EVERYONE, summary="Who am I, and what may I do", example="GET /api/auth/me"),
    Action.CUSTOMER_OVERVIEW: rule(*EVERYONE, summary="One customer across CRM and ERP",
                                   example="GET /api/customers/{id}/overview"),
    Action.DIRECTORY: rule(*EVERYONE, summary="List the active users (name, email, role) to choose an owner or "
                                             "assignee", example="GET /api/auth/directory"),
    Action.USERS: rule(summary="Manage users: create, change role, deactivate, reset password",
                       example="GET /api/auth/users"),
    Action.API_KEYS: rule(summary="Manage API keys for machine clients", example="GET /api/auth/api-keys"),
    Action.SENT_MAIL: rule(summary="Read the mail the development SMTP server kept (off with a real SMTP server)",
                           example="GET /api/mail/sent"),
}, caller=Caller)


def requires_current(action: Action) -> Any:
    """Like `POLICY.requires(action)`, and the role the database holds for the caller now must allow it too."""

    async def still_allowed(request: Request, principal: Annotated[Principal, POLICY.requires(action)]) -> Principal:
        role = await current_standing(request, principal)
        if not POLICY.allows(role, action):
            raise Forbidden(f"This action ({action}) needs a role this account no longer has ({role}).",
                            action=str(action))
        return principal

    still_allowed.__name__ = f"requires_current_{action.replace('.', '_')}"
    return Depends(still_allowed)


Anyone = Annotated[Principal, POLICY.requires(Action.ME)]
DirectoryReader = Annotated[Principal, POLICY.requires(Action.DIRECTORY)]
CustomerReader = Annotated[Principal, POLICY.requires(Action.CUSTOMER_OVERVIEW)]
UserAdmin = Annotated[Principal, requires_current(Action.USERS)]
KeyAdmin = Annotated[Principal, requires_current(Action.API_KEYS)]
SentMailReader = Annotated[Principal, POLICY.requires(Action.SENT_MAIL)]
