"""docker-compose.yml: valid by the Compose Specification schema, and true to the code it runs.

No Docker engine runs on the development machines, so the file is checked by schema and against the
services' real command lines and settings instead of by `docker compose up`.
"""

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.support import (
    CLI_ENV,
    INTERPOLATION,
    PORTS,
    ROOT,
    RUNTIME_ENV,
    WORKER_SERVICES,
    env_names,
    expected_topics,
    run_cli,
)

COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"
ROLES = ("api", "relay", "consumer", "scheduler")
SECRET_NAMES = re.compile(r"PASSWORD|PRIVATE_KEY|SIGNING_KEY|DATABASE_URL|SECRET|_TOKEN$|API_KEY")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def app_services(compose: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (service module, definition) for every container running one of our images."""
    found = {}
    for name, service in compose["services"].items():
        image = str(service.get("image", ""))
        if image.startswith("throughline/"):
            found[name] = (image.split("/")[1].split(":")[0], service)
    return found


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for env_file in service.get("env_file", []):
        for line in (ROOT / env_file).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                env[key.strip()] = value
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    env.update({k: str(v) for k, v in environment.items()})
    return env


def test_compose_file_is_valid_by_the_compose_spec_schema(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors, "\n".join(errors)
    # The schema must be able to fail: an unknown service key is refused.
    broken = {"services": {"x": {"image": "y", "helthcheck": {}}}}
    assert list(validator.iter_errors(broken))


def test_compose_runs_every_role_of_each_service_and_the_gateway(compose: dict[str, Any]) -> None:
    apps = app_services(compose)
    for service in WORKER_SERVICES:
        for role in ROLES:
            assert f"{service}-{role}" in apps, f"{service}-{role} is missing"
        assert f"{service}-migrate" in apps
    assert "gateway" in apps and "gateway-migrate" in apps
    assert compose["services"]["gateway"]["ports"], "the gateway is the published entry point"
    published = [name for name, (_, s) in apps.items() if s.get("ports")]
    assert published == ["gateway"], f"only the gateway should publish a port, not {published}"


def test_every_command_is_accepted_by_the_real_cli(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, (module, service) in app_services(compose).items():
        invocation = run_cli(list(service["command"]), monkeypatch)
        if name.endswith("-migrate"):
            assert invocation.command == "migrate", name
            continue
        assert invocation.command == "serve", name
        assert invocation.host == "0.0.0.0", f"{name} must listen on every interface in its container"
        assert invocation.port == PORTS[module], f"{name} must serve on {PORTS[module]} (its healthcheck port)"
        if module in WORKER_SERVICES:
            role = name.split("-", 1)[1]
            assert invocation.roles == {role}, f"{name} runs {sorted(invocation.roles)}, expected {role}"
        assert str(PORTS[module]) in json.dumps(service["healthcheck"]["test"]), name


def test_every_env_var_is_read_by_the_service_settings(compose: dict[str, Any]) -> None:
    for name, (module, service) in app_services(compose).items():
        known = env_names(module) | CLI_ENV | RUNTIME_ENV
        unknown = set(env_of(service)) - known
        assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"
        assert f"{module.upper()}_DATABASE_URL" in env_of(service), f"{name} needs its database"


def test_secrets_come_from_the_environment_never_from_the_files(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in env_of(service).items():
            if SECRET_NAMES.search(key):
                assert INTERPOLATION.search(value), f"{name}: {key} must come from the environment, not a file"
    for env_file in (ROOT / "deploy" / "env").glob("*.env"):
        for line in env_file.read_text().splitlines():
            key = line.partition("=")[0].strip()
            assert not (key and not key.startswith("#") and SECRET_NAMES.search(key)), \
                f"{env_file.name} holds a secret setting {key}; secrets belong in the environment"


def test_start_order_uses_health_and_completion_conditions(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions, not a bare list"
        for dependency, spec in depends.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = ("service_completed_successfully" if dependency.endswith(("-migrate", "-init"))
                        else "service_healthy")
            assert spec["condition"] == expected, f"{name} -> {dependency}: {spec['condition']}"
            if expected == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck to wait for"
    for name, (module, service) in app_services(compose).items():
        if name.endswith("-migrate"):
            assert service["restart"] == "no"
            assert set(service["depends_on"]) == {f"{module}-db"}
        else:
            assert "healthcheck" in service, name
            assert f"{module}-migrate" in service["depends_on"], f"{name} must wait for its migrations"
            if module in WORKER_SERVICES:
                assert "kafka-init" in service["depends_on"], f"{name} must wait for the topics"


def test_one_postgres_per_service_with_a_volume_and_kafka_in_kraft_mode(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for module in ("crm", "erp", "gateway"):
        db = services[f"{module}-db"]
        assert db["image"].startswith("postgres:15")
        volume = db["volumes"][0].split(":")[0]
        assert volume in compose["volumes"], f"{module}-db must keep its data in a named volume"
        assert "pg_isready" in json.dumps(db["healthcheck"]["test"])
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_CFG_PROCESS_ROLES"] == "broker,controller"  # KRaft: no ZooKeeper
    assert kafka["environment"]["KAFKA_CFG_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka["volumes"][0].split(":")[0] in compose["volumes"]


def test_topic_init_creates_every_topic_and_dead_letter_topic_with_its_partitions(compose: dict[str, Any]) -> None:
    init = compose["services"]["kafka-init"]
    script_path = next(v.split(":")[0] for v in init["volumes"] if "create-topics.sh" in v)
    script = (ROOT / script_path).read_text()
    assert any(script_path.split("/")[-1] in part for part in init["entrypoint"])
    created = {m.group(1): int(m.group(2)) for m in re.finditer(r"^create (\S+) (\d+)", script, re.MULTILINE)}
    assert created == expected_topics()
    assert "--if-not-exists" in script, "the job must be safe to run on every deploy"
