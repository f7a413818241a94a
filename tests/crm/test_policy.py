"""The CRM's policy table (crm/policy.py) is what guards its endpoints, and what GET /api/crm/policy serves."""

from fastapi.routing import APIRoute

from crm.app import api_routers
from crm.policy import POLICY, Action
from devstack.stack import Stack
from tests.crm.helpers import as_role, crm_direct
from throughline_platform.roles import ROLES

# Their own checks: a capture key or a configured X-API-Key opens lead capture without any token, and its CORS
# preflight is public (crm/leads/capture.py); inbound mail takes the CRM_INBOUND_SECRET, unsubscribe a signed link
# (crm/mail), a quote's page, PDF and the client's answer the quote's signed link (crm/quotes).
CHECKED_BY_ITSELF = {("POST", "/api/crm/lead-capture"), ("OPTIONS", "/api/crm/lead-capture"),
                     ("POST", "/api/crm/inbound-mail"), ("GET", "/api/crm/unsubscribe/{token}"),
                     ("POST", "/api/crm/unsubscribe/{token}"), ("GET", "/api/crm/public-quotes/{token}"),
                     ("GET", "/api/crm/public-quotes/{token}/pdf"), ("POST", "/api/crm/public-quotes/{token}/accept"),
                     ("POST", "/api/crm/public-quotes/{token}/decline")}
# The policy table itself: anyone signed in reads it, whatever their role (a member learns from it that they may do
# nothing in the CRM).
SIGNED_IN_ONLY = {("GET", "/api/crm/policy")}


def _actions_required(route: APIRoute) -> set[str]:
    names = {dependency.call.__name__ for dependency in route.dependant.dependencies if dependency.call}
    return {action for action in POLICY.rules if f"requires_{action.replace('.', '_')}" in names}


def test_every_endpoint_asks_the_policy_for_one_action() -> None:
    routes = [r for router in api_routers() for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 60
    asked: set[str] = set()
    for route in routes:
        for method in route.methods or ():
            actions = _actions_required(route)
            if (method, route.path) in CHECKED_BY_ITSELF | SIGNED_IN_ONLY:
                assert not actions, route.path
                continue
            assert len(actions) == 1, f"{method} {route.path}: {actions or 'no policy dependency'}"
            action = actions.pop()
            asked.add(action)
            if method == "GET":
                assert action in (Action.READ, Action.CSV_EXPORT), f"{method} {route.path}: {action}"
            else:
                assert action != Action.READ, f"{method} {route.path} only needs crm.read"
    assert asked == set(Action) - {Action.LEADS_CAPTURE}  # every action guards something


def test_the_policy_is_served_to_every_role(stack: Stack) -> None:
    for role in ROLES:
        with as_role(stack, role) as api:
            served = api.ok("GET", "/api/crm/policy")
        assert served == {"service": "crm", "actions": POLICY.as_table()}, role
    assert served["actions"]["crm.deals.write"] == ["admin", "sales"]
    assert served["actions"]["crm.read"] == sorted(set(ROLES) - {"member"})  # staff have no CRM action
    with crm_direct(stack) as anonymous:
        assert anonymous.get("/api/crm/policy").status_code == 401


def test_a_refused_write_is_refused_before_its_body_is_read(stack: Stack) -> None:
    """The role check is the endpoint's dependency: a viewer gets 403 naming the action even for a body the
    endpoint would refuse with 422."""
    with as_role(stack, "viewer") as viewer:
        response = viewer.post("/api/crm/deals", json={"title": ""})
    assert response.status_code == 403
    assert response.json()["action"] == "crm.deals.write"
