"""`serve --start-when-exists PATH`: the dev stack starts a service process while it still migrates the
process's database; the process loads its application, then serves only once PATH exists."""

import dataclasses
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from throughline_platform.service_cli import main, wait_for_file


def test_waiting_ends_when_the_file_appears(tmp_path: Path) -> None:
    gate = tmp_path / "crm-migrated"
    threading.Timer(0.3, gate.touch).start()
    started = time.monotonic()
    wait_for_file(gate, os.getppid(), timeout=5)
    assert gate.exists()
    assert time.monotonic() - started >= 0.25


def test_waiting_gives_up_after_the_timeout(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="did not appear"):
        wait_for_file(tmp_path / "never", os.getppid(), timeout=0.2)


def test_waiting_ends_when_the_parent_that_was_to_open_the_gate_has_gone(tmp_path: Path) -> None:
    # Started by a parent that is no longer ours (a supervisor killed during our imports): no one will open it.
    with pytest.raises(SystemExit, match="has gone"):
        wait_for_file(tmp_path / "never", os.getppid() + 1, timeout=5)


def test_serve_loads_the_app_first_and_serves_only_once_the_gate_exists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import crm.__main__

    gate = tmp_path / "crm-migrated"
    events: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: events.append(f"served {app}"))

    def create_app(roles: frozenset[str]) -> Any:
        events.append("app loaded")
        return "app"

    commands = dataclasses.replace(crm.__main__.COMMANDS, create_app=create_app)
    serving = threading.Thread(target=main, args=(commands, ["serve", "--roles", "api",
                                                             "--start-when-exists", str(gate)]))
    serving.start()
    time.sleep(0.5)
    assert events == ["app loaded"], "served before its database was migrated"
    gate.touch()
    serving.join(timeout=5)
    assert events == ["app loaded", "served app"]
