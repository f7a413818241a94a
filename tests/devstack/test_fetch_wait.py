"""The embedded stack's fetch waits: short for the ERP's consumer (the path with a latency target), long for the
CRM's (batches), and the environment's value wins over either (docs/perf-notes/won-latency.md)."""

from pathlib import Path

import pytest

from devstack.stack import Ports, Stack


def _embedded_stack_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "CRM_DATABASE_URL", "ERP_DATABASE_URL", "GATEWAY_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    stack = Stack(var_dir=tmp_path, ports=Ports.free())
    stack.plan_infrastructure()  # decides, starts nothing
    assert stack.broker is not None
    return stack.common_env()


def test_the_erp_consumer_looks_more_often_than_the_crm_consumer(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_KAFKA_FETCH_MAX_WAIT_MS", raising=False)
    monkeypatch.delenv("ERP_KAFKA_FETCH_MAX_WAIT_MS", raising=False)
    env = _embedded_stack_env(tmp_path, monkeypatch)
    assert env["ERP_KAFKA_FETCH_MAX_WAIT_MS"] == "20"
    assert env["CRM_KAFKA_FETCH_MAX_WAIT_MS"] == "250"


def test_the_environment_chooses_the_fetch_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KAFKA_FETCH_MAX_WAIT_MS", "60")
    monkeypatch.setenv("ERP_KAFKA_FETCH_MAX_WAIT_MS", "35")
    env = _embedded_stack_env(tmp_path, monkeypatch)
    assert env["ERP_KAFKA_FETCH_MAX_WAIT_MS"] == "35"
    assert env["CRM_KAFKA_FETCH_MAX_WAIT_MS"] == "60"
