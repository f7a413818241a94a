from pathlib import Path

from throughline_messaging.service_cli import ServiceCommands
from throughline_messaging.service_cli import main as run_cli


def _database_url() -> str:
    from erp.settings import get_settings

    return get_settings().database_url


def _replay(topic: str, limit: int | None) -> int:
    from erp.settings import get_settings
    from throughline_messaging.dead_letters import run_replay
    from throughline_messaging.kafka import KafkaSettings

    settings = get_settings()
    kafka = KafkaSettings(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="erp-replay")
    return run_replay(kafka, topic, f"{settings.consumer_group}.dlt-replay", limit)


def _create_app(roles: frozenset[str]):  # type: ignore[no-untyped-def]
    from erp.app import create_app

    return create_app(roles)


COMMANDS = ServiceCommands(name="erp", default_port=8002, migrations=Path(__file__).parent / "migrations",
                           database_url=_database_url, create_app=_create_app, replay=_replay)


def main() -> None:
    run_cli(COMMANDS)


if __name__ == "__main__":
    main()
