"""`make run`'s embedded PostgreSQL is durable (it may hold an agency's books); only throw-away clusters turn fsync,
synchronous_commit and full_page_writes off, and only when asked."""

from pathlib import Path

import pytest

from devstack.postgres import EmbeddedPostgres
from devstack.stack import Ports, Stack

ALL_ON = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
ALL_OFF = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def test_the_stack_is_durable_unless_told_otherwise() -> None:
    assert Stack(var_dir=Path("/nonexistent"), ports=Ports.free()).durable is True


@pytest.mark.parametrize(("durable", "expected"), [(True, ALL_ON), (False, ALL_OFF)])
def test_the_server_runs_with_the_durability_asked_for(tmp_path: Path, durable: bool,
                                                       expected: dict[str, str]) -> None:
    server = EmbeddedPostgres(tmp_path / "data", durable=durable)
    server.start()
    try:
        assert server.durability() == expected
    finally:
        server.stop()


def test_a_stack_passes_its_durability_to_its_embedded_postgres(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRM_DATABASE_URL", "ERP_DATABASE_URL", "GATEWAY_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(name, raising=False)
    for durable in (True, False):
        stack = Stack(var_dir=tmp_path, ports=Ports.free(), durable=durable)
        stack.plan_infrastructure()  # decides, starts nothing
        assert stack.postgres is not None and stack.postgres.durable is durable
