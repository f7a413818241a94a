"""The billing tests act as finance (and other roles) with tokens signed by the gateway's key."""

from collections.abc import Iterator

import pytest

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role
from tests.support import Api


@pytest.fixture(scope="module")
def finance(stack: Stack) -> Iterator[Api]:
    with as_role(stack, "finance") as api:
        yield api


@pytest.fixture(scope="module")
def sales(stack: Stack) -> Iterator[Api]:
    """Wins the deals the projects come from (CRM writes are for sales)."""
    with as_role(stack, "sales") as api:
        yield api
