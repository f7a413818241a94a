"""The test session's system: embedded PostgreSQL and broker, migrations, real service processes.

Started once per session on free ports, in a temporary directory, and stopped at the end, so `make test`
leaves no process or port behind. Set CRM_DATABASE_URL / ERP_DATABASE_URL / GATEWAY_DATABASE_URL or
KAFKA_BOOTSTRAP_SERVERS to run against real servers instead.
"""

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import Ports, Stack
from tests.support import Api

# Every process the tests start inherits this mark; `python -m devstack.leftovers` finds any that outlive us.
os.environ.setdefault("THROUGHLINE_STACK", "pytest")


def _interrupt(_signum: int, _frame: object) -> None:
    # The stack's processes run in their own sessions and outlive a killed pytest. Turning SIGTERM (a CI or
    # `timeout` stop) into an interrupt lets the session fixture's teardown stop them.
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir: Path = tmp_path_factory.mktemp("stack")
    # A throw-away cluster: durability off, as only tests and labelled bench rows may (docs/security.md).
    system = Stack(var_dir=var_dir, ports=Ports.free(), extra_env={"ADMIN_PASSWORD": "admin-test-password"},
                   durable=False)
    # Code the tests run in this process reads events as a gateway does (gateway.live's hub), so it gets the key
    # ring every process of the stack gets.
    ring_before = os.environ.get("EVENT_VERIFY_KEYS")
    try:
        system.start()
        os.environ["EVENT_VERIFY_KEYS"] = system.event_verify_keys()
        yield system
    finally:
        if ring_before is None:
            os.environ.pop("EVENT_VERIFY_KEYS", None)
        else:
            os.environ["EVENT_VERIFY_KEYS"] = ring_before
        system.stop()


@pytest.fixture(scope="session")
def admin(stack: Stack) -> Iterator[Api]:
    with Api.login(stack, "admin@example.com", "admin-test-password") as api:
        yield api
