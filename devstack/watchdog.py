"""Stops the embedded PostgreSQL and broker when the dev-stack supervisor dies without stopping them.

The servers are third-party binaries in sessions of their own: nothing in them notices that the supervisor has
gone (a SIGKILLed `make run` or pytest), so they would run on, holding their ports, and the next start on the
same data directory would fail. This small process, started by the supervisor, notices instead: once the
supervisor is no longer its parent, it waits for the service processes to finish their own graceful shutdown
(they watch the supervisor themselves: throughline_platform.parent_watch), so that they can still reach the
database and the broker while they drain, then stops the servers the way `Stack.stop` would, and exits.
A supervisor that stops normally ends this process itself once everything is stopped.

Processes are found by their command line when they are to be signalled, not by pids recorded at start: the
fault tests restart the broker, and a process matched just before it is signalled is not a stranger that has
reused an old pid.

    python -m devstack.watchdog --supervisor PID [--postgres-data DIR] [--broker-url URL]
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CHECK_INTERVAL_SECONDS = 0.5  # as often as the services check: the servers stop soon after the services
# Longer than a service's graceful shutdown (uvicorn's 20 s plus the lifespan's): a service still running then
# ignored the graceful path, and is killed like the servers that outlast theirs.
SERVICES_GRACE_SECONDS = 30
SERVERS_GRACE_SECONDS = 20

Match = Callable[[list[str]], bool]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="devstack.watchdog")
    parser.add_argument("--supervisor", type=int, required=True, help="our parent, the dev-stack supervisor")
    parser.add_argument("--postgres-data", type=Path, default=None, help="the embedded PostgreSQL's data directory")
    parser.add_argument("--broker-url", default=None, help="the embedded broker's --listener-url")
    args = parser.parse_args(argv)

    while os.getppid() == args.supervisor:  # re-parented for good once the supervisor has died
        time.sleep(CHECK_INTERVAL_SECONDS)
    services = service_match(args.supervisor)
    log(f"supervisor {args.supervisor} has gone; waiting for {len(find(services))} service process(es) to stop")
    wait_then_kill(services, SERVICES_GRACE_SECONDS)
    servers: dict[signal.Signals, Match] = {}
    if args.broker_url:
        servers[signal.SIGTERM] = broker_match(args.broker_url)
    if args.postgres_data:
        servers[signal.SIGINT] = postgres_match(args.postgres_data)  # "fast" shutdown, as in EmbeddedPostgres.stop
    for sig, match in servers.items():
        for pid in find(match):
            log(f"stopping {pid} ({sig.name})")
            send(pid, signal.SIGCONT)  # a frozen server (fault tests) cannot act on the stop signal
            send(pid, sig)
    for match in servers.values():
        wait_then_kill(match, SERVERS_GRACE_SECONDS)


def launch(log_path: Path, *, postgres_data: Path | None, broker_url: str | None) -> subprocess.Popen[bytes]:
    """Start the watchdog of this (the supervisor's) process."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    options = [*(["--postgres-data", str(postgres_data)] if postgres_data else []),
               *(["--broker-url", broker_url] if broker_url else [])]
    with open(log_path, "ab") as log_file:  # the child keeps its own descriptor
        # Its own session, like the servers: Ctrl-C on `make run` is for the supervisor, which then stops in order.
        return subprocess.Popen([sys.executable, "-m", "devstack.watchdog", "--supervisor", str(os.getpid()), *options],
                                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)


def service_match(supervisor: int) -> Match:
    """The service processes the supervisor started: they carry `--started-by <its pid>`."""
    return lambda argv: _has(argv, "--started-by", str(supervisor))


def broker_match(url: str) -> Match:
    return lambda argv: _has(argv, "--listener-url", url)


def postgres_match(data_dir: Path) -> Match:
    # The postmaster only: its backends rename themselves ("postgres: checkpointer"), and initdb is not "postgres".
    return lambda argv: bool(argv) and Path(argv[0]).name == "postgres" and _has(argv, "-D", str(data_dir))


def _has(argv: list[str], option: str, value: str) -> bool:
    return any(argv[i] == option and argv[i + 1] == value for i in range(len(argv) - 1))


def wait_then_kill(match: Match, grace: float) -> None:
    """Wait up to `grace` seconds for the matching processes to exit, then SIGKILL those left."""
    deadline = time.monotonic() + grace
    while (left := find(match)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        log(f"{pid} still running after {grace:.0f}s: SIGKILL")
        send(pid, signal.SIGKILL)


def find(match: Match) -> list[int]:
    """Live processes whose command line matches (an exited one that init has not reaped yet does not count)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")[:-1]
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue  # exited meanwhile
        if state != "Z" and match([part.decode(errors="replace") for part in argv]):
            found.append(int(entry.name))
    return found


def send(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # exited meanwhile
        os.kill(pid, sig)


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} watchdog: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
