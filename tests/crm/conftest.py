"""CRM test setup. The session's services inherit os.environ, so the lead-capture keys the tests use are set
here, at collection time, before the shared `stack` fixture starts any process."""

import os
from collections.abc import Iterator

import pytest

from devstack.stack import Stack
from tests.crm.helpers import CAPTURE_KEY, DAILY_LIMIT, INBOUND_SECRET, RATE_LIMITED_KEY, as_role
from tests.support import Api

os.environ["CRM_LEAD_CAPTURE_KEYS"] = ",".join(
    k for k in {*os.environ.get("CRM_LEAD_CAPTURE_KEYS", "").split(","), CAPTURE_KEY, RATE_LIMITED_KEY} if k)
# The scheduler evaluates time-based automation rules every second in the test session (default: a minute).
os.environ.setdefault("CRM_AUTOMATION_INTERVAL_SECONDS", "1")
# Mail (tests/crm/test_mail.py, test_sequences.py): the inbound-mail secret, a scheduler that looks every second,
# and a daily limit small enough to reach (each test sends as its own user, so the limits do not meet).
os.environ.setdefault("CRM_INBOUND_SECRET", INBOUND_SECRET)
os.environ.setdefault("CRM_SEQUENCE_INTERVAL_SECONDS", "1")
os.environ.setdefault("CRM_SEQUENCE_DAILY_LIMIT_PER_SENDER", str(DAILY_LIMIT))


@pytest.fixture(scope="session")
def sales(stack: Stack) -> Iterator[Api]:
    with as_role(stack, "sales", user_id="sales-1") as api:
        yield api


@pytest.fixture(scope="session")
def viewer(stack: Stack) -> Iterator[Api]:
    with as_role(stack, "viewer", user_id="viewer-1") as api:
        yield api
