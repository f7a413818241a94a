"""The planning tests act as any role, admin included, with tokens signed by the gateway's key."""

from collections.abc import Iterator

import pytest

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, as_role


@pytest.fixture(scope="module")
def boss(stack: Stack) -> Iterator[RoleApi]:
    with as_role(stack, "admin") as api:
        yield api
