"""A dev-stack supervisor killed outright (SIGKILL: no teardown, no goodbye) must leave no process behind:
the service processes notice and shut down gracefully by themselves, and the watchdog then stops the
embedded PostgreSQL and broker."""

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

# The supervisor, in a process of its own that the test can kill: starts a whole stack, reports its pids.
SUPERVISOR = """
import json, sys, time
from pathlib import Path
from devstack.stack import Ports, Stack

stack = Stack(var_dir=Path(sys.argv[1]), ports=Ports.free())
try:
    stack.start()
except BaseException:
    stack.stop()
    raise
pids = {name: process.process.pid for name, process in stack.processes.items() if process.process}
for name, server in (("postgres", stack.postgres), ("broker", stack.broker)):
    if server is not None and server.process is not None:
        pids[name] = server.process.pid
if stack.watchdog is not None:
    pids["watchdog"] = stack.watchdog.pid
print(json.dumps(pids), flush=True)
time.sleep(600)
"""


def test_killing_the_supervisor_stops_every_process_it_started(tmp_path: Path) -> None:
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(tmp_path)], stdout=subprocess.PIPE)
    pids: dict[str, int] = {}
    try:
        pids = _read_pids(supervisor, timeout=60)
        command_lines = {pid: _command_line(pid) for pid in pids.values()}
        supervisor.kill()
        supervisor.wait()

        killed = time.monotonic()
        left = _wait_until_gone(command_lines, timeout=25)
        assert not left, f"still running {time.monotonic() - killed:.1f}s after the supervisor was killed: " + \
            ", ".join(name for name, pid in pids.items() if pid in left)
        # The graceful path (the lifespan stopped the relay, the consumer and the pools), not a last resort.
        for name in ("crm-worker", "erp-worker", "crm-api", "erp-api"):
            assert "runtime_stopped" in (tmp_path / "log" / f"{name}.log").read_text(), f"{name} did not stop cleanly"
        watchdog_log = (tmp_path / "log" / "watchdog.log").read_text()
        assert "SIGKILL" not in watchdog_log, watchdog_log
    finally:
        supervisor.kill()
        supervisor.wait()
        for pid in _wait_until_gone({pid: _command_line(pid) for pid in pids.values()}, timeout=0):
            os.kill(pid, signal.SIGKILL)  # a failed run must not leak either


def test_a_process_whose_supervisor_is_not_its_parent_any_more_sends_itself_sigterm() -> None:
    # As if re-parented: the "supervisor" pid is not our parent's, so the watch fires at its first check.
    orphan = subprocess.run([sys.executable, "-c", "import os, time\n"
                             "from throughline_platform.parent_watch import stop_when_parent_exits\n"
                             "stop_when_parent_exits(os.getppid() + 1)\n"
                             "time.sleep(20)"], timeout=15)
    assert orphan.returncode == -signal.SIGTERM


def _read_pids(supervisor: subprocess.Popen[bytes], timeout: float) -> dict[str, int]:
    assert supervisor.stdout is not None
    ready, _, _ = select.select([supervisor.stdout], [], [], timeout)
    line = supervisor.stdout.readline() if ready else b""
    assert line, f"the stack did not start within {timeout}s (exit code {supervisor.poll()})"
    pids: dict[str, int] = json.loads(line)
    return pids


def _wait_until_gone(command_lines: dict[int, bytes | None], timeout: float) -> set[int]:
    """The pids still running the same command after `timeout` seconds (polled, so no longer than needed)."""
    deadline = time.monotonic() + timeout
    while True:
        left = {pid for pid, command in command_lines.items() if command and _command_line(pid) == command}
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)


def _command_line(pid: int) -> bytes | None:
    """What `pid` runs, or None once it has exited (an exited process not reaped yet included)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        return None if state == "Z" else Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
