"""The whole system on one machine: embedded (or configured) PostgreSQL and broker, migrations, the
CRM and ERP APIs and workers, and the gateway. Used by `make run` and by the test session."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.broker import EmbeddedBroker
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.processes import ServiceProcess

DATABASES = ("crm", "erp", "gateway")


@dataclass
class Ports:
    gateway: int = 8000
    crm: int = 8001
    erp: int = 8002
    crm_worker: int = 8011
    erp_worker: int = 8012
    broker: int = 9092

    @classmethod
    def from_env(cls) -> "Ports":
        return cls(
            gateway=int(os.environ.get("GATEWAY_PORT", 8000)), crm=int(os.environ.get("CRM_PORT", 8001)),
            erp=int(os.environ.get("ERP_PORT", 8002)), crm_worker=int(os.environ.get("CRM_WORKER_PORT", 8011)),
            erp_worker=int(os.environ.get("ERP_WORKER_PORT", 8012)), broker=int(os.environ.get("KAFKA_PORT", 9092)),
        )

    @classmethod
    def free(cls) -> "Ports":
        return cls(*(free_port() for _ in range(6)))


@dataclass
class Stack:
    var_dir: Path
    ports: Ports
    # Short group timings suit one machine: a restarted consumer rejoins in about a second.
    fast_consumer_groups: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    database_urls: dict[str, str] = field(default_factory=dict)
    bootstrap_servers: str = ""
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    # --- infrastructure ------------------------------------------------------------------------

    def start_infrastructure(self) -> None:
        configured = {db: os.environ.get(f"{db.upper()}_DATABASE_URL", "") for db in DATABASES}
        if not all(configured.values()):
            self.postgres = EmbeddedPostgres(self.var_dir / "postgres", port=int(os.environ.get("PG_PORT", 0)) or None)
            self.postgres.start()
            for db in DATABASES:
                if not configured[db]:
                    self.postgres.create_database(db)
                    configured[db] = self.postgres.url(db)
        self.database_urls = configured
        self.bootstrap_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
        if not self.bootstrap_servers:
            self.broker = EmbeddedBroker(self.var_dir / "log" / "broker.log", port=self.ports.broker)
            self.broker.start()
            self.bootstrap_servers = self.broker.bootstrap_servers

    def migrate(self) -> None:
        for service in DATABASES:
            env = {**os.environ, **self.common_env(), f"{service.upper()}_DATABASE_URL": self.database_urls[service]}
            result = subprocess.run([sys.executable, "-m", service, "migrate"], env=env, capture_output=True,
                                    text=True)
            if result.returncode != 0:
                raise RuntimeError(f"{service} migrations failed:\n{result.stdout}\n{result.stderr}")

    # --- services --------------------------------------------------------------------------------

    def keys(self) -> tuple[str, str]:
        from gateway.auth.tokens import generate_private_key_pem, public_key_of

        key_file = self.var_dir / "keys" / "gateway-ed25519.pem"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(generate_private_key_pem())
            key_file.chmod(0o600)
        private = os.environ.get("GATEWAY_JWT_PRIVATE_KEY") or key_file.read_text()
        return private, public_key_of(private)

    def common_env(self) -> dict[str, str]:
        private, public = self.keys()
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "JWT_PUBLIC_KEY": public,
            "GATEWAY_JWT_PRIVATE_KEY": private,
            "CRM_DATABASE_URL": self.database_urls.get("crm", ""),
            "ERP_DATABASE_URL": self.database_urls.get("erp", ""),
            "GATEWAY_DATABASE_URL": self.database_urls.get("gateway", ""),
            "GATEWAY_CRM_URL": f"http://127.0.0.1:{self.ports.crm}",
            "GATEWAY_ERP_URL": f"http://127.0.0.1:{self.ports.erp}",
            "GATEWAY_HEALTH_URLS": (
                f'{{"crm-worker": "http://127.0.0.1:{self.ports.crm_worker}/health/ready", '
                f'"erp-worker": "http://127.0.0.1:{self.ports.erp_worker}/health/ready"}}'
            ),
            "PYTHONUNBUFFERED": "1",
        }
        if self.fast_consumer_groups:
            for prefix in ("CRM", "ERP"):
                env[f"{prefix}_KAFKA_SESSION_TIMEOUT_MS"] = "3000"
                env[f"{prefix}_KAFKA_HEARTBEAT_INTERVAL_MS"] = "300"
        return {**env, **self.extra_env}

    def define_processes(self) -> None:
        env = self.common_env()
        log_dir = self.var_dir / "log"
        p = self.ports
        self.processes = {
            "crm-worker": ServiceProcess("crm-worker", ["crm", "serve", "--roles", "relay,consumer,scheduler"], env,
                                         p.crm_worker, log_dir),
            "erp-worker": ServiceProcess("erp-worker", ["erp", "serve", "--roles", "relay,consumer,scheduler"], env,
                                         p.erp_worker, log_dir),
            "crm-api": ServiceProcess("crm-api", ["crm", "serve", "--roles", "api"], env, p.crm, log_dir),
            "erp-api": ServiceProcess("erp-api", ["erp", "serve", "--roles", "api"], env, p.erp, log_dir),
            "gateway": ServiceProcess("gateway", ["gateway", "serve"], env, p.gateway, log_dir),
        }

    def start_services(self) -> None:
        self.define_processes()
        for process in self.processes.values():
            process.start()
        for name, process in self.processes.items():
            process.wait_ready("/health/live" if name == "gateway" else "/health/ready")

    def start(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.start_infrastructure()
        self.migrate()
        self.start_services()

    # --- stopping in order -------------------------------------------------------------------------

    def wait_quiescent(self, timeout: float = 20) -> bool:
        """True once every outbox is published and every consumer has caught up (twice in a row)."""
        workers = [p for name, p in self.processes.items() if name.endswith("worker") and p.alive()]
        deadline = time.monotonic() + timeout
        calm = 0
        while time.monotonic() < deadline:
            if all(_caught_up(w) for w in workers):
                calm += 1
                if calm >= 2:
                    return True
            else:
                calm = 0
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        """Gateway, APIs, then the workers once drained, then the broker and the database."""
        for name in ("gateway", "crm-api", "erp-api"):
            if name in self.processes:
                self.processes[name].stop()
        self.wait_quiescent()
        for name in ("crm-worker", "erp-worker"):
            if name in self.processes:
                self.processes[name].stop()
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()


def _caught_up(worker: ServiceProcess) -> bool:
    try:
        body = httpx.get(worker.url + "/health/ready", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    components = body.get("components", {})
    outbox = components.get("outbox", {})
    consumer = components.get("consumer", {})
    return bool(outbox.get("unpublished") == 0 and consumer.get("lag") == 0)


def run_forever(stack: Stack) -> None:
    """`make run`: start, print where things are, wait for Ctrl-C, stop in order."""
    import signal

    started = time.monotonic()
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    elapsed = time.monotonic() - started
    from gateway.settings import GatewaySettings

    admin = GatewaySettings(jwt_private_key="x")
    p = stack.ports
    print(f"""
Throughline is running (ready in {elapsed:.1f}s).

  Web API (gateway)  http://127.0.0.1:{p.gateway}     docs: http://127.0.0.1:{p.gateway}/docs
  CRM service        http://127.0.0.1:{p.crm}     worker health: http://127.0.0.1:{p.crm_worker}/health/ready
  ERP service        http://127.0.0.1:{p.erp}     worker health: http://127.0.0.1:{p.erp_worker}/health/ready
  Kafka bootstrap    {stack.bootstrap_servers}
  Data and logs      {stack.var_dir}

  Log in as {admin.admin_email} / {admin.admin_password}   (set ADMIN_EMAIL / ADMIN_PASSWORD to change)
  Ctrl-C stops everything in order.
""", flush=True)
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not received:
            for name, process in stack.processes.items():
                if not process.alive():
                    print(f"{name} exited; see {process.log_path}", flush=True)
                    received.append(0)
                    break
            time.sleep(0.5)
    finally:
        print("Stopping: gateway, APIs, workers (after draining), broker, database...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)


def main() -> None:
    root = Path(os.environ.get("THROUGHLINE_VAR", Path.cwd() / "var"))
    run_forever(Stack(var_dir=root, ports=Ports.from_env()))


if __name__ == "__main__":
    main()
