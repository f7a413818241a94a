"""The whole system on one machine: embedded (or configured) PostgreSQL and broker, migrations, the
CRM and ERP APIs and workers, and the gateway. Used by `make run` and by the test session."""

import importlib
import importlib.util
import json
import os
import secrets
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from devstack.broker import EmbeddedBroker
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.processes import ServiceProcess
from devstack.smtp import EmbeddedSmtp
from devstack.watchdog import launch as launch_watchdog

if TYPE_CHECKING:
    from throughline_platform.event_signing import EventSigner, EventVerifier

# In the order they are migrated: the workers take longest to become ready (they join a consumer group after
# starting), so their databases go first and the gateway's last.
DATABASES = ("crm", "erp", "gateway")
# The services that publish events, each with its own signing key (docs/security.md): the gateway its users'.
PRODUCERS = ("crm", "erp", "gateway")


@dataclass(frozen=True)
class EventKey:
    """One service's event signing key: the private half for its relay, the public half for the key ring."""

    service: str
    key_id: str
    private_pem: str
    public_pem: str


@dataclass
class Ports:
    gateway: int = 8000
    crm: int = 8001
    erp: int = 8002
    crm_worker: int = 8011
    erp_worker: int = 8012
    broker: int = 9092
    smtp: int = 8025  # the embedded SMTP server's (SMTP_PORT)
    gateway_worker: int = 8010  # the gateway's relay (its users' events)

    @classmethod
    def from_env(cls) -> "Ports":
        return cls(
            gateway=int(os.environ.get("GATEWAY_PORT", 8000)), crm=int(os.environ.get("CRM_PORT", 8001)),
            erp=int(os.environ.get("ERP_PORT", 8002)), crm_worker=int(os.environ.get("CRM_WORKER_PORT", 8011)),
            erp_worker=int(os.environ.get("ERP_WORKER_PORT", 8012)), broker=int(os.environ.get("KAFKA_PORT", 9092)),
            smtp=int(os.environ.get("SMTP_PORT", 8025)),
            gateway_worker=int(os.environ.get("GATEWAY_WORKER_PORT", 8010)),
        )

    @classmethod
    def free(cls) -> "Ports":
        return cls(*(free_port() for _ in range(8)))


@dataclass
class Stack:
    var_dir: Path
    ports: Ports
    # Short group timings suit one machine: a restarted consumer rejoins in about a second.
    fast_consumer_groups: bool = True
    # The embedded PostgreSQL keeps its durability settings on (`make run`); a throw-away stack (tests, the
    # benchmark's labelled rows) may turn them off (devstack/postgres.py).
    durable: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    # The SMTP server that keeps every mail as a file under var_dir/mail (None when SMTP_HOST names a real one).
    smtp: EmbeddedSmtp | None = None
    database_urls: dict[str, str] = field(default_factory=dict)
    bootstrap_servers: str = ""
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    # Stops the embedded servers if we are killed before we could (see devstack.watchdog).
    watchdog: subprocess.Popen[bytes] | None = None
    _keys: tuple[str, str] | None = field(default=None, repr=False)
    _event_keys: dict[str, EventKey] | None = field(default=None, repr=False)
    _embedded_databases: list[str] = field(default_factory=list, repr=False)

    # --- infrastructure ------------------------------------------------------------------------

    def plan_infrastructure(self) -> None:
        """Decide where the databases and the broker are (configured, or embedded on our ports), starting
        nothing yet: the service processes need only the addresses to start importing."""
        configured = {db: os.environ.get(f"{db.upper()}_DATABASE_URL", "") for db in DATABASES}
        self._embedded_databases = [db for db in DATABASES if not configured[db]]
        if self._embedded_databases:
            self.postgres = EmbeddedPostgres(self.var_dir / "postgres", port=int(os.environ.get("PG_PORT", 0)) or None,
                                             durable=self.durable)
            for db in self._embedded_databases:
                configured[db] = self.postgres.url(db)
        self.database_urls = configured
        self.bootstrap_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
        if not self.bootstrap_servers:
            self.broker = EmbeddedBroker(self.var_dir / "log" / "broker.log", port=self.ports.broker)
            self.bootstrap_servers = self.broker.bootstrap_servers
        if not os.environ.get("SMTP_HOST"):
            self.smtp = EmbeddedSmtp(self.var_dir / "mail", self.var_dir / "log" / "smtp.log", port=self.ports.smtp)

    def start_watchdog(self) -> None:
        """The service processes stop by themselves if we die (`--started-by`); the embedded servers need this."""
        if self.postgres is None and self.broker is None:
            return
        self.watchdog = launch_watchdog(
            self.var_dir / "log" / "watchdog.log", postgres_data=self.postgres.data_dir if self.postgres else None,
            broker_url=self.broker.listener_url if self.broker else None)

    def start_infrastructure(self) -> None:
        """The embedded broker, PostgreSQL and SMTP server (whichever are not configured), side by side."""
        if self.smtp is not None:
            self.smtp.launch()
        if self.broker is not None:
            self.broker.launch()
        if self.postgres is not None:
            self.postgres.start()
            self.postgres.create_databases(self._embedded_databases)
        if self.broker is not None:
            self.broker.wait_listening()
        if self.smtp is not None:
            self.smtp.wait_listening()

    def migrate_database(self, database: str) -> None:
        """Alembic to head, in this process: no interpreter to start per database, and a database already at
        head (every start after the first) costs one query."""
        from throughline_platform.migrations import upgrade

        try:
            upgrade(_package_dir(database) / "migrations", self.database_urls[database])
        except Exception as exc:
            raise RuntimeError(f"{database} migrations failed: {exc}") from exc

    def gate(self, database: str) -> Path:
        """The file whose existence lets the processes of `database` serve: it is created once it is migrated."""
        return self.var_dir / "run" / f"{database}-migrated"

    # --- services --------------------------------------------------------------------------------

    def keys(self) -> tuple[str, str]:
        if self._keys is None:
            key_file = self.var_dir / "keys" / "gateway-ed25519.pem"
            if not key_file.exists():
                key_file.parent.mkdir(parents=True, exist_ok=True)
                key_file.write_text(_new_private_key_pem())
                key_file.chmod(0o600)
            private = os.environ.get("GATEWAY_JWT_PRIVATE_KEY") or key_file.read_text()
            self._keys = private, _public_key_of(private)
        return self._keys

    def event_keys(self) -> dict[str, EventKey]:
        """Each producing service's event signing key, made once under var/keys (like the gateway's JWT key), or
        taken from `<SERVICE>_EVENT_SIGNING_KEY` (and `_KEY_ID`) when the environment sets it."""
        if self._event_keys is None:
            from throughline_platform import event_signing

            keys = {}
            for service in PRODUCERS:
                key_file = self.var_dir / "keys" / f"{service}-event-signing-ed25519.pem"
                if not key_file.exists():
                    key_file.parent.mkdir(parents=True, exist_ok=True)
                    key_file.write_text(event_signing.new_private_key_pem())
                    key_file.chmod(0o600)
                private = os.environ.get(f"{service.upper()}_EVENT_SIGNING_KEY") or key_file.read_text()
                loaded = event_signing.load_private_key(private)
                key_id = (os.environ.get(f"{service.upper()}_EVENT_SIGNING_KEY_ID")
                          or event_signing.key_id_for(service, loaded))
                keys[service] = EventKey(service, key_id, private, event_signing.public_key_pem(loaded))
            self._event_keys = keys
        return self._event_keys

    def event_verify_keys(self) -> str:
        """The key ring every reader gets (EVENT_VERIFY_KEYS): the stack's own keys, plus any the environment's ring
        adds (a key being rotated in, another stack's). Never the environment's alone: the stack's relays sign with
        its own keys, and a relay whose key is not in the ring refuses to start."""
        ring = json.loads(os.environ.get("EVENT_VERIFY_KEYS") or "{}")
        ring.update({key.key_id: {"service": key.service, "public_key": key.public_pem}
                     for key in self.event_keys().values()})
        return json.dumps(ring)

    def event_signer(self, service: str) -> "EventSigner":
        """What a test needs to publish as `service` would (its relay's key)."""
        from throughline_platform.event_signing import EventSigner

        key = self.event_keys()[service]
        return EventSigner.from_pem(key.key_id, service, key.private_pem)

    def event_verifier(self) -> "EventVerifier":
        from throughline_platform.event_signing import EventVerifier, KeyRing

        return EventVerifier(KeyRing.from_json(self.event_verify_keys()))

    def link_secrets(self) -> dict[str, str]:
        """Each service's secret for signing public links (an invoice's client page, a quote, unsubscribe), made
        once under var/keys so that links sent before a restart still open; the environment's value wins."""
        secrets_ = {}
        for service in PRODUCERS:
            name = f"{service.upper()}_LINK_SECRET"
            key_file = self.var_dir / "keys" / f"{service}-link-secret"
            if not key_file.exists():
                key_file.parent.mkdir(parents=True, exist_ok=True)
                key_file.write_text(secrets.token_hex(32))
                key_file.chmod(0o600)
            secrets_[name] = os.environ.get(name) or key_file.read_text().strip()
        return secrets_

    def signing_env(self, service: str) -> dict[str, str]:
        """What only `service`'s relay process gets: its private signing key."""
        key = self.event_keys()[service]
        prefix = service.upper()
        return {f"{prefix}_EVENT_SIGNING_KEY": key.private_pem, f"{prefix}_EVENT_SIGNING_KEY_ID": key.key_id}

    def common_env(self) -> dict[str, str]:
        """What every process gets. No private event signing key: only a service's relay gets its own
        (`signing_env`)."""
        private, public = self.keys()
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "JWT_PUBLIC_KEY": public,
            "EVENT_VERIFY_KEYS": self.event_verify_keys(),
            "GATEWAY_JWT_PRIVATE_KEY": private,
            "CRM_DATABASE_URL": self.database_urls.get("crm", ""),
            "ERP_DATABASE_URL": self.database_urls.get("erp", ""),
            "GATEWAY_DATABASE_URL": self.database_urls.get("gateway", ""),
            "GATEWAY_CRM_URL": f"http://127.0.0.1:{self.ports.crm}",
            "GATEWAY_ERP_URL": f"http://127.0.0.1:{self.ports.erp}",
            "GATEWAY_HEALTH_URLS": (
                f'{{"crm-worker": "http://127.0.0.1:{self.ports.crm_worker}/health/ready", '
                f'"erp-worker": "http://127.0.0.1:{self.ports.erp_worker}/health/ready", '
                f'"gateway-worker": "http://127.0.0.1:{self.ports.gateway_worker}/health/ready"}}'
            ),
            "PYTHONUNBUFFERED": "1",
            # Where the public links in mail (an invoice's client page, unsubscribe) point: this stack's gateway.
            "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{self.ports.gateway}",
            **self.link_secrets(),
            **(self.smtp.env() if self.smtp is not None else {}),
        }
        if self.fast_consumer_groups:
            for prefix in ("CRM", "ERP"):
                env[f"{prefix}_KAFKA_SESSION_TIMEOUT_MS"] = "3000"
                env[f"{prefix}_KAFKA_HEARTBEAT_INTERVAL_MS"] = "300"
        if self.broker is not None:
            # Tansu answers a fetch that finds nothing only at its next look (after W/2, 3W/4, ... of the wait W;
            # docs/perf-notes/embedded-broker-fetch.md), so W is latency on the embedded broker, and each look
            # costs it CPU. The ERP's consumer carries the path with a latency target (a won deal's project
            # readable: p50 at 200 wins/s from 28-36 to 25-26 ms with W = 20), so it looks every 10 ms, at ~5 %
            # more CPU per win at saturation (smaller batches). The CRM's brings ERP facts onto the sales timeline,
            # where a tenth of a second is not seen, so it waits 250 ms: 26-28 events per batch instead of 7-8,
            # ~4.5 % less CPU per win. Apache Kafka answers when a record arrives, so a configured broker keeps the
            # services' default. The environment overrides both (docs/perf-notes/won-latency.md).
            for prefix, wait_ms in (("CRM", "250"), ("ERP", "20")):
                name = f"{prefix}_KAFKA_FETCH_MAX_WAIT_MS"
                env[name] = os.environ.get(name, wait_ms)
        return {**env, **self.extra_env}

    def define_processes(self) -> None:
        env = self.common_env()
        log_dir = self.var_dir / "log"
        p = self.ports
        # The workers run the relays, so each gets its own service's signing key; the APIs and the gateway none (the
        # gateway's users' events are published by its own relay, the gateway-worker).
        self.processes = {
            "crm-worker": ServiceProcess("crm-worker", ["crm", "serve", "--roles", "relay,consumer,scheduler"],
                                         {**env, **self.signing_env("crm")}, p.crm_worker, log_dir, self.gate("crm")),
            "erp-worker": ServiceProcess("erp-worker", ["erp", "serve", "--roles", "relay,consumer,scheduler"],
                                         {**env, **self.signing_env("erp")}, p.erp_worker, log_dir, self.gate("erp")),
            "crm-api": ServiceProcess("crm-api", ["crm", "serve", "--roles", "api"], env, p.crm, log_dir,
                                      self.gate("crm")),
            "erp-api": ServiceProcess("erp-api", ["erp", "serve", "--roles", "api"], env, p.erp, log_dir,
                                      self.gate("erp")),
            "gateway": ServiceProcess("gateway", ["gateway", "serve"], env, p.gateway, log_dir, self.gate("gateway")),
            "gateway-worker": ServiceProcess("gateway-worker", ["gateway", "relay"],
                                             {**env, **self.signing_env("gateway")}, p.gateway_worker, log_dir,
                                             self.gate("gateway")),
        }

    def wait_ready(self) -> None:
        for name, process in self.processes.items():
            process.wait_ready("/health/live" if name == "gateway" else "/health/ready")

    def start(self) -> None:
        """Everything, overlapped. Importing the application is most of a service process's start, so the
        processes start first and import while PostgreSQL and the broker come up and the databases are
        migrated; each process serves once its database is at head (its gate file exists)."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.plan_infrastructure()
        self.start_watchdog()
        for database in DATABASES:
            self.gate(database).unlink(missing_ok=True)  # left by the previous run
        self.gate(DATABASES[0]).parent.mkdir(exist_ok=True)
        self.define_processes()
        for process in self.processes.values():
            process.start()
        # Our own import of Alembic and SQLAlchemy overlaps PostgreSQL's start too.
        warm_up = threading.Thread(target=importlib.import_module, args=("throughline_platform.migrations",),
                                   name="import-alembic", daemon=True)
        warm_up.start()
        self.start_infrastructure()
        warm_up.join()
        for database in DATABASES:
            self.migrate_database(database)
            self.gate(database).touch()
        self.wait_ready()

    # --- stopping in order -------------------------------------------------------------------------

    def wait_quiescent(self, timeout: float = 20) -> bool:
        """True once every outbox is published and every consumer has caught up (twice in a row)."""
        workers = [p for name, p in self.processes.items() if name.endswith("worker") and p.alive() and p.was_ready]
        deadline = time.monotonic() + timeout
        calm = 0
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if all(_caught_up(client, w) for w in workers):
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
        for name in ("gateway-worker", "crm-worker", "erp-worker"):
            if name in self.processes:
                self.processes[name].stop()
        if self.broker is not None:
            self.broker.stop()
        if self.smtp is not None:
            self.smtp.stop()
        if self.postgres is not None:
            self.postgres.stop()
        if self.watchdog is not None:  # nothing left for it to stop
            self.watchdog.terminate()
            self.watchdog.wait()


def _package_dir(package: str) -> Path:
    """Where a service package lives, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the {package} package is not installed (make installs it)")
    return Path(spec.origin).parent


def _new_private_key_pem() -> str:
    # cryptography directly rather than the gateway's token module, which would import FastAPI into the supervisor.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def _public_key_of(private_key_pem: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

    key = load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("GATEWAY_JWT_PRIVATE_KEY must be an Ed25519 private key in PEM")
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def _caught_up(client: httpx.Client, worker: ServiceProcess) -> bool:
    try:
        body = client.get(worker.url + "/health/ready").json()
    except (httpx.HTTPError, ValueError):
        return False
    components = body.get("components", {})
    outbox = components.get("outbox", {})
    consumer = components.get("consumer", {"lag": 0})  # the gateway's worker is a relay alone
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
  Gateway relay      (its users' events)   health: http://127.0.0.1:{p.gateway_worker}/health/ready
  Kafka bootstrap    {stack.bootstrap_servers}
  Mail (SMTP)        {f"127.0.0.1:{p.smtp}, every message kept in {stack.var_dir / 'mail'}" if stack.smtp
                      else os.environ["SMTP_HOST"]}
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
