"""The payables, exchange-rate and cash-forecast tests act as any role, with tokens signed by the gateway's key."""

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_cash.helpers import company_in_eur
from tests.erp_costs.helpers import RoleApi, as_role


@pytest.fixture(scope="module")
def finance(stack: Stack) -> Iterator[RoleApi]:
    with as_role(stack, "finance") as api:
        yield api


@pytest.fixture(scope="module")
def base(finance: RoleApi) -> dict[str, Any]:
    """The company profile, in EUR (set up with a German seller unless another module set one up already)."""
    return company_in_eur(finance)
