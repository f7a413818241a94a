"""Child processes of the dev stack: started with their env, logged to a file, stopped or killed on demand."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.ports import port_is_open


@dataclass
class ServiceProcess:
    name: str
    args: list[str]
    env: dict[str, str]
    port: int
    log_dir: Path
    # The stack starts a process before its database is migrated so that its imports (most of its start) run
    # meanwhile; it serves once this file exists (`serve --start-when-exists`). None: serve straight away.
    start_when_exists: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # Whether it answered its readiness check since it was (re)started: one still waiting for its database
    # has nothing to drain.
    was_ready: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        gate = (["--start-when-exists", str(self.start_when_exists), "--started-by", str(os.getpid())]
                if self.start_when_exists else [])
        self.was_ready = False
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", *self.args, "--port", str(self.port), *gate],
                env={**os.environ, **self.env, **(extra_env or {})}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, path: str = "/health/ready", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = "not listening yet"
        # One client for the whole wait (each new one builds an SSL context: ~10 ms of CPU), and a bare connect
        # while the process is not listening yet.
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited ({self._exit_code()}); see {self.log_path}\n{self.tail()}")
                if port_is_open(self.port):
                    try:
                        response = client.get(self.url + path)
                        if response.status_code == 200:
                            self.was_ready = True
                            return
                        last = response.text[:500]
                    except httpx.HTTPError as exc:
                        last = repr(exc)
                time.sleep(0.05)
        raise TimeoutError(f"{self.name} not ready after {timeout}s: {last}\n{self.tail()}")

    def stop(self, timeout: float = 25) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, like a crashed node."""
        if self.alive():
            assert self.process is not None
            self.process.kill()
            self.process.wait()

    def restart(self, extra_env: dict[str, str] | None = None, *, hard: bool = False) -> None:
        """Stop (SIGTERM, or SIGKILL with `hard`) and start again on the same port with the same env."""
        if hard:
            self.kill()
        else:
            self.stop()
        self.start(extra_env)

    def wait_exit(self, timeout: float) -> int | None:
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def _exit_code(self) -> int | None:
        return self.process.poll() if self.process else None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
