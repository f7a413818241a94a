"""The books' tests act as finance (and other roles) with tokens signed by the gateway's key."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, fixed, project_for, today
from tests.support import Api


@pytest.fixture(scope="module")
def finance(stack: Stack) -> Iterator[Api]:
    with as_role(stack, "finance") as api:
        yield api


@pytest.fixture
def project(admin: Api) -> dict[str, Any]:
    """A project of a client of its own (nothing due for a year): its lines in the books are its alone."""
    return project_for(admin, fixed(1, today() + timedelta(days=400)), amount="5000.00")
