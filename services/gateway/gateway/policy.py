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
from throughline_platform.roles import Role

FINANCE, VIEWER = Role.FINANCE, Role.VIEWER


class Action(StrEnum):
    ME = "gateway.me"
    CUSTOMER_OVERVIEW = "gateway.customer_overview"
    DIRECTORY = "gateway.directory"
    USERS = "gateway.users"
    API_KEYS = "gateway.api_keys"
    SEARCH = "gateway.search"
    SEARCH_INVOICES = "gateway.search.invoices"
    VIEWS = "gateway.views"
    NOTIFICATIONS = "gateway.notifications"
    SENT_MAIL = "gateway.sent_mail"
    LIVE_LEDGER = "gateway.live.ledger"


POLICY = Policy("gateway", {
    Action.ME: rule(*EVERYONE, summary="Who am I, and what may I do", example="GET /api/auth/me"),
    Action.CUSTOMER_OVERVIEW: rule(*EVERYONE, summary="One customer across CRM and ERP",
                                   example="GET /api/customers/{id}/overview"),
    Action.DIRECTORY: rule(*EVERYONE, summary="List the active users (name, email, role) to choose an owner or "
                                             "assignee", example="GET /api/auth/directory"),
    Action.USERS: rule(summary="Manage users: create, change role, deactivate, reset password",
                       example="GET /api/auth/users"),
    Action.API_KEYS: rule(summary="Manage API keys for machine clients", example="GET /api/auth/api-keys"),
    Action.SEARCH: rule(*EVERYONE, summary="Search companies, contacts, deals, leads and projects",
                        example="GET /api/search?q=acme"),
    # No example: a role without it is not refused, its search just leaves invoices out.
    Action.SEARCH_INVOICES: rule(FINANCE, VIEWER, summary="Find invoices in the search (GET /api/search)",
                                 note="Without it the search answers the other types and no invoice."),
    Action.VIEWS: rule(*EVERYONE, summary="Keep one's own saved views (named filters of a list)",
                       example="GET /api/views", note="Each person sees and changes only their own views."),
    Action.NOTIFICATIONS: rule(*EVERYONE, summary="Read one's own notifications (the bell) and mark them read",
                               example="GET /api/notifications"),
    Action.SENT_MAIL: rule(summary="Read the mail the development SMTP server kept (off with a real SMTP server)",
                           example="GET /api/mail/sent"),
    # No example: a role without it is not refused, its stream just leaves the books' events out.
    Action.LIVE_LEDGER: rule(FINANCE, VIEWER, summary="Receive the books' events (ledger.*) on the live stream "
                                                      "(GET /api/live)",
                             note="Who reads the ledger (erp.ledger.read); the others' stream leaves them out."),
}, caller=Caller)

# What the search may show a role: a type appears only when the role may do its action.
SEARCH_TYPES: dict[str, Action] = {
    "company": Action.SEARCH, "contact": Action.SEARCH, "deal": Action.SEARCH, "lead": Action.SEARCH,
    "project": Action.SEARCH, "invoice": Action.SEARCH_INVOICES,
}


def searchable_types(role: str) -> list[str]:
    return [kind for kind, action in SEARCH_TYPES.items() if POLICY.allows(role, action)]


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
NotificationReader = Annotated[Principal, POLICY.requires(Action.NOTIFICATIONS)]
UserAdmin = Annotated[Principal, requires_current(Action.USERS)]
KeyAdmin = Annotated[Principal, requires_current(Action.API_KEYS)]
Searcher = Annotated[Principal, POLICY.requires(Action.SEARCH)]
ViewKeeper = Annotated[Principal, POLICY.requires(Action.VIEWS)]
SentMailReader = Annotated[Principal, POLICY.requires(Action.SENT_MAIL)]
