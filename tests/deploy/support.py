"""What the deployment tests share: the repository's files, the services' real CLIs and settings."""

import dataclasses
import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from throughline_events import TOPICS, dead_letter_topic
from throughline_platform.settings import _SHARED as SHARED_SETTINGS
from throughline_platform.settings import ServiceSettingsBase

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("crm", "erp", "gateway")
WORKER_SERVICES = ("crm", "erp")
PORTS = {"crm": 8001, "erp": 8002, "gateway": 8000}
# Environment read by uvicorn itself, which every process serves with: the proxies whose X-Forwarded-For names the
# client (the gateway's login throttle and /metrics go by that address; docs/operations.md).
UVICORN_ENV = {"FORWARDED_ALLOW_IPS"}
# Environment read by the command line itself (throughline_platform.service_cli, gateway.__main__) and the server it
# runs.
CLI_ENV = {"HOST", "PORT", "SERVICE_ROLES"} | UVICORN_ENV
# Generic runtime environment every Python image may set.
RUNTIME_ENV = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}


def settings_class(service: str) -> type[BaseSettings]:
    module = importlib.import_module(f"{service}.settings")
    # Defined in the module, not imported into it (the CRM's and ERP's extend throughline_messaging's base).
    classes = [c for c in vars(module).values()
               if isinstance(c, type) and issubclass(c, BaseSettings) and c.__module__ == module.__name__]
    assert len(classes) == 1, f"{service}.settings should define one settings class"
    return classes[0]


def env_names(service: str) -> set[str]:
    """Every environment variable the service's settings read (prefix + field, or the declared aliases)."""
    names = _names_read_by(settings_class(service))
    if service == "gateway":
        # The live stream reads its broker, Kafka login and key ring itself (it may not use the messaging settings).
        from gateway.live import ENVIRONMENT
        from gateway.relay import GatewayRelaySettings

        names.update(name for variable in ENVIRONMENT for name in (variable, f"GATEWAY_{variable}"))
        # The relay process (python -m gateway relay) reads its own settings: its signing key, the broker.
        names.update(_names_read_by(GatewayRelaySettings))
    return names


def _names_read_by(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    # The settings one deployment shares may also come without the prefix (throughline_platform.settings): those the
    # class hierarchy names, and those every service reads unprefixed whatever it names (`METRICS_TOKEN`).
    assert issubclass(cls, ServiceSettingsBase), f"{cls.__name__} should extend ServiceSettingsBase"
    names.update(field_name.upper() for field_name in (*cls.all_unprefixed(), *SHARED_SETTINGS))
    return names


def consumed_topics(service: str) -> list[str]:
    module = {"crm": "crm.timeline.handlers", "erp": "erp.handlers"}[service]
    topics: list[str] = importlib.import_module(module).CONSUMED_TOPICS
    return topics


def consumer_group(service: str) -> str:
    group: str = settings_class(service)().consumer_group  # type: ignore[attr-defined]
    return group


@dataclasses.dataclass(frozen=True)
class Access:
    """What one Kafka principal may do: write and read which topics, read (join, commit in) which groups."""

    writes: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()


# The Kafka users of a deployment: each service's own, the gateway's live stream, the operators' DLT replay.
KAFKA_USERS = {"crm": "crm", "erp": "erp", "gateway": "gateway", "replay": "dlt-replay"}


def expected_access() -> dict[str, Access]:
    """Kafka user -> what it must be allowed, from the code: each service writes the topics of its own context
    and its dead-letter topics, reads what its consumer group consumes; the gateway writes its users' topic and reads
    the services' event topics; the
    replay user reads the dead-letter topics and writes back to the topics they park, in each group's replay
    group. Nothing else."""
    from throughline_messaging.dead_letters import replay_group
    from throughline_platform.event_signing import topic_service

    access: dict[str, Access] = {}
    replay = Access()
    for service in WORKER_SERVICES:
        group, consumed = consumer_group(service), consumed_topics(service)
        dead_letters = frozenset(dead_letter_topic(topic, group) for topic in consumed)
        own = frozenset(topic for topic in TOPICS if topic_service(topic) == service)
        access[KAFKA_USERS[service]] = Access(writes=own | dead_letters, reads=frozenset(consumed),
                                              groups=frozenset({group}))
        replay = Access(writes=replay.writes | frozenset(consumed), reads=replay.reads | dead_letters,
                        groups=replay.groups | {replay_group(group)})
    # The gateway: its relay writes its users' topic (issue 23); its live stream reads the CRM's and the ERP's.
    gateway_topics = frozenset(topic for topic in TOPICS if topic_service(topic) == "gateway")
    access[KAFKA_USERS["gateway"]] = Access(writes=gateway_topics, reads=frozenset(TOPICS) - gateway_topics)
    access[KAFKA_USERS["replay"]] = replay
    return access


def expected_topics() -> dict[str, int]:
    """Every topic with its partition count: the registry plus each consumer group's DLTs (1 partition)."""
    wanted = {t.name: t.partitions for t in TOPICS.values()}
    for service in WORKER_SERVICES:
        for topic in consumed_topics(service):
            wanted[dead_letter_topic(topic, consumer_group(service))] = 1
    return wanted


@dataclasses.dataclass
class Invocation:
    """What the real command line did with an argv: which subcommand, and the serve call's arguments."""

    command: str
    roles: frozenset[str] = frozenset()
    host: str | None = None
    port: int | None = None
    # The keyword arguments given to uvicorn.run (an option given there overrides uvicorn's environment variable).
    server_options: dict[str, Any] = dataclasses.field(default_factory=dict)


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> Invocation:
    """Parse `python -m <service> ...` with the service's real argparse CLI, without serving or migrating."""
    assert argv[:2] == ["python", "-m"], f"expected `python -m <service> ...`, got {argv}"
    service, args = argv[2], argv[3:]
    assert service in SERVICES, f"unknown service module {service}"
    calls: dict[str, Any] = {}

    import uvicorn

    import throughline_platform.migrations

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(kw, command="serve", options=kw))
    monkeypatch.setattr(throughline_platform.migrations, "upgrade", lambda *a: calls.update(command="migrate"))
    try:
        if service == "gateway":
            import gateway.__main__
            import gateway.app
            import gateway.relay

            monkeypatch.setattr(gateway.app, "create_app", lambda: object())
            monkeypatch.setattr(gateway.relay, "create_relay_app", lambda: object())
            gateway.__main__.main(args)
        else:
            from throughline_platform.service_cli import main

            module = importlib.import_module(f"{service}.__main__")
            roles_seen: dict[str, frozenset[str]] = {}

            def fake_app(roles: frozenset[str]) -> Any:
                roles_seen["roles"] = roles
                return object()

            main(dataclasses.replace(module.COMMANDS, create_app=fake_app), args)
            calls["roles"] = roles_seen.get("roles", frozenset())
    except SystemExit as exc:  # argparse refused the arguments
        raise AssertionError(f"`{' '.join(argv)}` is rejected by the {service} CLI (exit {exc.code})") from None
    assert "command" in calls, f"`{' '.join(argv)}` neither served nor migrated"
    return Invocation(calls["command"], calls.get("roles", frozenset()), calls.get("host"), calls.get("port"),
                      calls.get("options", {}))


# A value taken from the operator's environment at `docker compose` time: ${NAME} or ${NAME:?message}.
INTERPOLATION = re.compile(r"\$\{[A-Z0-9_]+(:?[?-][^}]*)?\}")
