"""Who may do what at the gateway's own endpoints (the services keep their own tables: crm/policy.py,
erp/policy.py). docs/roles.md is generated from the three (`python -m devstack.roles_doc`)."""

from enum import StrEnum
from typing import Annotated

from gateway.security import Caller
from throughline_platform.auth import Principal
from throughline_platform.policy import EVERYONE, Policy, rule


class Action(StrEnum):
    ME = "gateway.me"
    CUSTOMER_OVERVIEW = "gateway.customer_overview"
    USERS = "gateway.users"
    API_KEYS = "gateway.api_keys"


POLICY = Policy("gateway", {
    Action.ME: rule(*EVERYONE, summary="Who am I, and what may I do", example="GET /api/auth/me"),
    Action.CUSTOMER_OVERVIEW: rule(*EVERYONE, summary="One customer across CRM and ERP",
                                   example="GET /api/customers/{id}/overview"),
    Action.USERS: rule(summary="Manage users: create, change role, deactivate, reset password",
                       example="GET /api/auth/users"),
    Action.API_KEYS: rule(summary="Manage API keys for machine clients", example="GET /api/auth/api-keys"),
}, caller=Caller)

Anyone = Annotated[Principal, POLICY.requires(Action.ME)]
CustomerReader = Annotated[Principal, POLICY.requires(Action.CUSTOMER_OVERVIEW)]
UserAdmin = Annotated[Principal, POLICY.requires(Action.USERS)]
KeyAdmin = Annotated[Principal, POLICY.requires(Action.API_KEYS)]
