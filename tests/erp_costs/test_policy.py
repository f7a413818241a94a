"""The ERP's policy table (erp/policy.py): every endpoint names its action in its signature, and the table is
served as it is enforced."""

from fastapi.routing import APIRoute

from devstack.stack import Stack
from erp.app import api_routers
from erp.policy import POLICY, Action
from tests.erp_costs.helpers import as_role

# The rows docs/roles.md walks (tests/gateway/test_roles.py): their names and roles stay as they are.
DOCUMENTED = {
    "erp.read": ["admin", "finance", "project_manager", "sales", "viewer"],
    "erp.projects.write": ["admin", "finance", "project_manager"],
    "erp.time_entries.write": ["admin", "finance", "project_manager"],
    "erp.bill_rates.write": ["admin", "finance", "project_manager"],
    "erp.invoices.write": ["admin", "finance"],
    "erp.payments.write": ["admin", "finance"],
    "erp.credit_notes.write": ["admin", "finance"],
    "erp.billing_runs.write": ["admin", "finance"],
    "erp.cost_centers.write": ["admin", "finance"],
    "erp.cost_rates.write": ["admin", "finance"],
    "erp.clients.billing": ["admin", "finance"],
    "erp.expenses.create": ["admin", "finance", "member", "project_manager", "sales"],
}
# The reading actions (issue 23): a member reads their own work, people and, like finance, no one else's cost rate.
READING = {Action.READ, Action.WORK_READ, Action.PEOPLE_READ, Action.COST_RATES_READ}


# The client's page of a sent invoice and its PDF: opened without a login, the signed link is their credential
# (erp/mailing/service.py checks it: 403 forged or altered, 410 expired).
CHECKED_BY_ITSELF = {("GET", "/api/erp/public/invoices/{token}"), ("GET", "/api/erp/public/invoices/{token}/pdf")}
# The policy table itself: anyone signed in reads it, whatever their role (a member learns from it what they may do).
SIGNED_IN_ONLY = {("GET", "/api/erp/policy")}


def _actions_of(route: APIRoute) -> set[str]:
    """The policy actions an endpoint's dependencies require (`POLICY.requires` names its check after them)."""
    names = {d.call.__name__ for d in route.dependant.dependencies if d.call is not None}
    return {a for a in Action if f"requires_{a.replace('.', '_')}" in names}


# Reads of figures made of cost and margins: finance's, not every reader's; the books (finance and viewer); the
# queue of weeks waiting for approval (project managers').
FINANCE_READS = {Action.EFFICIENCY_READ, Action.LEDGER_READ, Action.TIMESHEETS_APPROVE}


def test_every_endpoint_requires_exactly_one_action_and_every_get_reads() -> None:
    used = set()
    for router in api_routers():
        for route in router.routes:
            assert isinstance(route, APIRoute)
            actions = _actions_of(route)
            if any((method, route.path) in CHECKED_BY_ITSELF | SIGNED_IN_ONLY for method in route.methods or ()):
                assert not actions, route.path
                continue
            assert len(actions) == 1, f"{route.methods} {route.path}: {actions}"
            if route.methods == {"GET"}:
                assert actions <= READING | FINANCE_READS, route.path
            used |= actions
    # Every action is some endpoint's, except approving above the manager limit, which the expenses service asks
    # for by amount once the endpoint's own action (erp.expenses.approve) has let the caller in.
    assert set(Action) - used == {Action.EXPENSES_APPROVE_ABOVE_LIMIT}


def test_the_documented_rows_keep_their_roles_and_examples() -> None:
    table = POLICY.as_table()
    assert {a: table[a] for a in DOCUMENTED} == DOCUMENTED
    assert all(POLICY.rule(a).example for a in DOCUMENTED)
    # Rules that depend on the data are not walked by the role matrix: they carry a note, not an example.
    for action in (Action.EXPENSES_SUBMIT, Action.EXPENSES_APPROVE, Action.EXPENSES_APPROVE_ABOVE_LIMIT):
        assert POLICY.rule(action).example is None and POLICY.rule(action).note


def test_the_policy_is_served_to_any_role_as_it_is_enforced(stack: Stack) -> None:
    served = as_role(stack, "viewer").ok("GET", "/api/erp/policy")
    assert served == {"service": "erp", "actions": POLICY.as_table()}
    assert served["actions"]["erp.expenses.reimburse"] == ["admin", "finance"]
    anonymous = as_role(stack, "viewer").client
    del anonymous.headers["Authorization"]
    assert anonymous.get("/api/erp/policy").status_code == 401
