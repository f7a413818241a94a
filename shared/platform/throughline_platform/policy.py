"""Who may do what: one table per service, action -> roles, that its routers use and its docs are made from.

Each service declares its actions once (`crm/policy.py`, `erp/policy.py`, `gateway/policy.py`). A router asks
for an action with a typed dependency, so the check is part of the endpoint's signature:

    DealWriter = Annotated[Principal, POLICY.requires(Action.DEALS_WRITE)]

    @router.post("/deals")
    async def create_deal(body: DealIn, uow: UoW, principal: DealWriter) -> DealOut: ...

A rule that depends on the data (approving an expense up to a limit, never one's own) is still checked by the
service, which asks the same table with `POLICY.allows(role, action)` for the role part. `admin` may do every
action. `docs/roles.md` is generated from these tables (`python -m devstack.roles_doc`) and the gateway serves
them to the web app (`GET /api/auth/me` lists the caller's actions), so nothing keeps a copy.
"""

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from throughline_platform.auth import Principal
from throughline_platform.deps import CurrentPrincipal
from throughline_platform.problems import Forbidden
from throughline_platform.roles import ROLES, Role


@dataclass(frozen=True)
class Rule:
    """One action: the roles that may do it (admin always may), what it is, and how the docs show it.

    `example` is one endpoint that needs exactly this action ("POST /api/crm/deals/{id}/win"): the role-matrix
    test calls it as every role. `note` says in words what depends on the data."""

    roles: frozenset[Role]
    summary: str
    example: str | None = None
    note: str | None = None


def rule(*roles: Role, summary: str, example: str | None = None, note: str | None = None) -> Rule:
    return Rule(frozenset(roles), summary, example, note)


EVERYONE = tuple(r for r in ROLES if r is not Role.ADMIN)
# Every role but admin and member: those who read the business as a whole. A member (staff) sees their own work
# only, so each service's table names where a member may go (docs/decisions.md, 113).
EVERYONE_BUT_MEMBER = tuple(r for r in EVERYONE if r is not Role.MEMBER)


class Policy:
    """`caller` is the dependency that authenticates the caller: a service's bearer token check by default; the
    gateway passes its own, which also accepts API keys."""

    def __init__(self, service: str, rules: Mapping[str, Rule], *, caller: Any = CurrentPrincipal) -> None:
        for action in rules:
            if not action.startswith(f"{service}."):
                raise ValueError(f"action {action!r} of the {service} policy must start with {service!r}")
        self.service = service
        self.rules: dict[str, Rule] = dict(rules)
        self._caller = caller

    def rule(self, action: str) -> Rule:
        try:
            return self.rules[action]
        except KeyError:
            raise KeyError(f"{action!r} is not an action of the {self.service} policy") from None

    def allows(self, role: str, action: str) -> bool:
        return role == Role.ADMIN or role in self.rule(action).roles

    def check(self, principal: Principal, action: str) -> None:
        """Forbidden (403) unless the principal's role may do `action`."""
        if not self.allows(principal.role, action):
            roles = ", ".join(sorted({Role.ADMIN, *self.rule(action).roles}))
            raise Forbidden(f"This action ({action}) needs one of the roles: {roles}.", action=action)

    def requires(self, action: str) -> Any:
        """A FastAPI dependency giving the calling principal once it may do `action` (403 otherwise). An unknown
        action fails here, when the router module is imported, not at the first request."""
        self.rule(action)

        async def allowed(principal: Principal) -> Principal:
            self.check(principal, action)
            return principal

        # FastAPI reads the parameter's dependency from the signature: the caller dependency chosen above.
        allowed.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter("principal", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=self._caller)],
            return_annotation=Principal)
        allowed.__name__ = f"requires_{action.replace('.', '_')}"
        return Depends(allowed)

    def as_table(self) -> dict[str, list[str]]:
        """Action -> the roles that may do it, admin included: what the gateway serves to the web app."""
        return {action: sorted({Role.ADMIN, *r.roles}) for action, r in self.rules.items()}


def merged_actions(tables: Iterable[Mapping[str, Iterable[str]]], role: str) -> list[str]:
    """The actions `role` may do across several services' tables (as `Policy.as_table` gives them)."""
    return sorted(action for table in tables for action, roles in table.items() if role in roles)



class PolicyOut(BaseModel):
    service: str = Field(description="Whose actions these are")
    actions: dict[str, list[str]] = Field(description="Action -> the roles that may do it (admin always may)")


def policy_router(policy: Policy) -> APIRouter:
    """`GET /api/<service>/policy`: the service's table, for the gateway (`/api/auth/me`) and the web app. Anyone
    signed in may read it, whatever their role: it is docs/roles.md as data, and a role with no action in a service
    (a member in the CRM) must still learn that from it."""
    router = APIRouter(prefix=f"/api/{policy.service}", tags=["policy"])

    @router.get("/policy", response_model=PolicyOut,
                summary=f"Which roles may do which {policy.service.upper()} action (admin may do all)")
    async def get_policy(principal: CurrentPrincipal) -> PolicyOut:
        return PolicyOut(service=policy.service, actions=policy.as_table())

    return router
