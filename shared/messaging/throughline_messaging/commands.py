"""The command line of an event-driven service (the CRM's, the ERP's): the platform's commands and replay-dlt."""

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from throughline_platform.service_cli import ServiceCommands

if TYPE_CHECKING:  # imported for real only by the app factories: `--help` and the start gate stay light
    from fastapi import FastAPI


def standard_service(name: str, default_port: int, package_dir: Path, *, settings: str,
                     app_factory: str) -> ServiceCommands:
    """The commands of a CRM/ERP-shaped service, named by import paths ("crm.settings:get_settings") so
    that `--help` and `migrate` do not import the whole application."""

    def load(target: str) -> Any:
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def database_url() -> str:
        return str(load(settings)().database_url)

    def replay(topic: str, limit: int | None) -> int:
        from throughline_messaging.dead_letters import replay_group, run_replay

        current = load(settings)()
        kafka = current.kafka_settings(client_id=f"{name}-replay")
        missing = kafka.missing_credentials()
        if missing:  # a production broker: replay as the operator's Kafka user (docs/security.md)
            prefix = name.upper()
            raise SystemExit(f"{missing}: set {prefix}_KAFKA_SASL_USERNAME and {prefix}_KAFKA_SASL_PASSWORD")
        return run_replay(kafka, topic, replay_group(current.consumer_group), limit)

    def create_app(roles: frozenset[str]) -> "FastAPI":
        app: FastAPI = load(app_factory)(roles)
        return app

    return ServiceCommands(name=name, default_port=default_port, migrations=package_dir / "migrations",
                           database_url=database_url, create_app=create_app, replay=replay)
