"""docs/roles.md is generated from the policy tables the services enforce; it must never disagree with them."""

from devstack.roles_doc import DOC, POLICIES, render
from throughline_platform.roles import ROLES


def test_checked_in_roles_doc_is_what_the_policy_tables_say() -> None:
    assert DOC.read_text() == render(), "run `python -m devstack.roles_doc` after changing a policy table"


def test_every_action_is_documented_with_its_roles() -> None:
    text = render()
    for policy in POLICIES:
        for action, rule in policy.rules.items():
            assert f"| `{action}` | {rule.summary}." in text
            assert rule.roles <= set(ROLES)
