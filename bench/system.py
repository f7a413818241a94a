"""Starting the system for a run, and watching its processes' memory."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devstack.ports import free_port, port_is_open
from devstack.stack import Ports, Stack


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat), with that of its children that have
    ended and been waited for if asked."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    used = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        used += int(fields[13]) + int(fields[14])  # cutime, cstime
    return used / ticks


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds per process; PostgreSQL's figure includes its backends (the work is done there), the live ones
    and those that have ended: a pool that opens and closes connections under load moves work into backends
    that are gone by the next snapshot."""
    snapshot = {}
    for name, pid in pids.items():
        if name.startswith("postgres"):
            snapshot[name] = (cpu_seconds(pid, reaped_children=True)
                              + sum(cpu_seconds(child) for child in children_of(pid)))
        else:
            snapshot[name] = cpu_seconds(pid)
    return snapshot


def cpu_per_op(before: dict[str, float], after: dict[str, float], ops: int) -> tuple[str, float | None]:
    """CPU milliseconds each process spent per operation (robust to other load on the machine), and the total."""
    if ops <= 0:
        return "", None
    spent = {name.split(" ")[0]: (after[name] - before[name]) * 1000 / ops for name in before}
    parts = [f"{name} {ms:.2f}" for name, ms in spent.items()]
    total = sum(spent.values())
    return f"CPU ms per op: total {total:.1f} = " + ", ".join(parts), total


def ceiling(total_ms: float | None) -> float | None:
    """Operations per second this machine could do if the system had every CPU to itself."""
    return (os.cpu_count() or 1) * 1000 / total_ms if total_ms else None


def batch_counts(stack: Stack) -> dict[str, tuple[float, ...]]:
    """Each worker's events handled, consumer batches, events published and relay rounds so far, from its
    /metrics."""
    counts: dict[str, tuple[float, ...]] = {}
    for name, port in (("crm-worker", stack.ports.crm_worker), ("erp-worker", stack.ports.erp_worker)):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
            lines = reply.read().decode().splitlines()
        counts[name] = tuple(sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(f"{metric}{{"))
                             for metric in ("events_consumed_total", "consumer_batch_seconds_count",
                                            "outbox_events_published_total", "outbox_relay_batches_total"))
    return counts


def events_per_batch(before: dict[str, tuple[float, ...]], after: dict[str, tuple[float, ...]]) -> str:
    """How many events each worker's consumer batches and relay rounds held on average between two
    `batch_counts`: the workers' cost per event falls steeply with it (a batch has a fixed cost: a fetch, a
    transaction; a relay round a read, a produce request, a mark)."""
    def ratio(events: float, batches: float) -> str:
        return f"{events / batches:.1f}" if batches else "-"

    parts = []
    for name, now in after.items():
        consumed, batches, published, rounds = (a - b for a, b in zip(now, before[name], strict=True))
        parts.append(f"{name} {ratio(consumed, batches)} (relay {ratio(published, rounds)})")
    return "events per consumer batch (per relay round): " + ", ".join(parts)


def process_ids(stack: Stack) -> dict[str, int]:
    pids: dict[str, int] = {}
    for name, proc in stack.processes.items():
        if proc.process is not None and proc.alive():
            pids[name] = proc.process.pid
    if stack.postgres is not None and stack.postgres.process is not None:
        pids["postgres (postmaster)"] = stack.postgres.process.pid
    if stack.broker is not None and stack.broker.process is not None:
        pids["broker (tansu)"] = stack.broker.process.pid
    return pids


@dataclass
class MemoryWatch:
    """Samples every process's RSS in a thread; keeps the idle figure and the peak under load."""

    pids: dict[str, int]
    interval: float = 0.25
    idle: dict[str, float] = field(default_factory=dict)
    peak: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample_idle(self) -> None:
        for name, pid in self.pids.items():
            value = rss_mb(pid)
            if value is not None:
                self.idle[name] = value

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rss-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, pid in self.pids.items():
                value = rss_mb(pid)
                if value is not None and value > self.peak.get(name, 0.0):
                    self.peak[name] = value

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


class BenchSystem:
    """The whole system in a temporary directory on free ports, started and timed by the bench. `durable` is
    PostgreSQL's durability (fsync, synchronous_commit, full_page_writes): on, as `make run` runs it, unless a run
    asks for the labelled comparison rows."""

    def __init__(self, keep: bool = False, durable: bool = True) -> None:
        self.var_dir = Path(tempfile.mkdtemp(prefix="throughline-bench-"))
        self.password = "bench-" + os.urandom(6).hex()
        # One bench user sends thousands of requests a second: the gateway's per-user rate limit (a safety net,
        # not a capacity) is turned off so that the bench measures capacity rather than the limiter.
        env = {"ADMIN_PASSWORD": self.password, "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
               "GATEWAY_API_KEY_RATE_LIMIT_PER_MINUTE": "0"}
        self.stack = Stack(var_dir=self.var_dir, ports=Ports.free(), extra_env=env, durable=durable)
        self.durable = durable
        self.keep = keep
        self.start_seconds = 0.0

    def start(self) -> None:
        started = time.perf_counter()
        try:
            self.stack.start()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.perf_counter() - started

    def restart_seconds(self) -> float:
        """Stop in order and start again on the same data (the `make run` after the first one)."""
        self.stack.stop()
        self.stack = Stack(var_dir=self.var_dir, ports=self.stack.ports, extra_env=self.stack.extra_env,
                           durable=self.durable)
        started = time.perf_counter()
        self.stack.start()
        return time.perf_counter() - started

    def stop(self) -> None:
        try:
            self.stack.stop()
        finally:
            if not self.keep:
                shutil.rmtree(self.var_dir, ignore_errors=True)


class Nginx:
    """nginx as a reverse proxy in front of one upstream, from the Debian package when it can be had."""

    CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")

    def __init__(self, upstream_port: int, workdir: Path) -> None:
        self.upstream_port = upstream_port
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.why_not = ""

    @classmethod
    def binary(cls, install: bool) -> tuple[str | None, str]:
        """The nginx binary, installing the Debian package when allowed and possible; else why not."""
        found = shutil.which("nginx") or next((c for c in cls.CANDIDATES if Path(c).exists()), None)
        if found:
            return found, "already installed"
        if not install:
            return None, "nginx is not installed (the smoke run does not install it)"
        if shutil.which("apt-get") is None:
            return None, "nginx is not installed and there is no apt-get here"
        if os.geteuid() != 0:
            return None, "nginx is not installed and installing it needs root"
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        result = subprocess.run(["apt-get", "install", "-y", "-q", "nginx"], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)
            result = subprocess.run(["apt-get", "install", "-y", "-q", "nginx"], capture_output=True, text=True,
                                    env=env)
        found = shutil.which("nginx") or next((c for c in cls.CANDIDATES if Path(c).exists()), None)
        if found:
            return found, "installed by the bench (apt-get install nginx)"
        return None, f"apt-get install nginx failed: {result.stderr.strip()[-200:]}"

    def start(self, binary: str) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(f"""
user root;
worker_processes 1;
daemon off;
pid {self.workdir}/nginx.pid;
error_log {self.workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {self.workdir}/body;
    proxy_temp_path {self.workdir}/proxy;
    fastcgi_temp_path {self.workdir}/fastcgi;
    uwsgi_temp_path {self.workdir}/uwsgi;
    scgi_temp_path {self.workdir}/scgi;
    upstream service {{ server 127.0.0.1:{self.upstream_port}; keepalive 128; }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://service;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
""")
        log = (self.workdir / "stdout.log").open("ab")
        self.process = subprocess.Popen([binary, "-e", str(self.workdir / "error.log"), "-p", str(self.workdir),
                                         "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + 10
        while not port_is_open(self.port):
            if self.process.poll() is not None:
                error = (self.workdir / "error.log")
                raise RuntimeError(f"nginx exited: {error.read_text()[-300:] if error.exists() else ''}")
            if time.monotonic() > deadline:
                raise TimeoutError("nginx did not listen")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
