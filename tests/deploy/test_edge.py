"""The HTTP edge of the production files: every serving process gets the deployment's one METRICS_TOKEN from a
secret (without it /metrics answers only its own machine, so every scrape from another pod or container would get
403), and the gateway is told whose X-Forwarded-For to believe (FORWARDED_ALLOW_IPS, uvicorn's), since its login
throttle and /metrics go by the client address uvicorn settles on."""

import ipaddress
import re
from typing import Any

import pytest
import uvicorn
import yaml

from tests.deploy.kustomize import Manifest, build, load_documents
from tests.deploy.support import INTERPOLATION, ROOT, SERVICES, env_names, run_cli, settings_class
from tests.deploy.test_compose import app_services, env_of

K8S = ROOT / "deploy" / "k8s"
METRICS_SECRET = ("throughline-metrics", "METRICS_TOKEN")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


@pytest.fixture(scope="module")
def manifests() -> list[Manifest]:
    return build(K8S / "overlays" / "production")


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def container_of(workload: Manifest) -> dict[str, Any]:
    container: dict[str, Any] = workload["spec"]["template"]["spec"]["containers"][0]
    return container


def secret_refs(container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {item["name"]: (item["valueFrom"]["secretKeyRef"]["name"], item["valueFrom"]["secretKeyRef"]["key"])
            for item in container.get("env", []) if "valueFrom" in item}


def check_trusted_proxies(value: str) -> None:
    """FORWARDED_ALLOW_IPS: addresses or CIDRs (or a <placeholder> the operator replaces), never `*`."""
    for entry in (part.strip() for part in value.split(",")):
        assert entry != "*", "trusting every peer lets any client name its own address"
        if not re.fullmatch(r"<[^<>,]+>", entry):
            ipaddress.ip_network(entry)  # raises ValueError for anything uvicorn would not match as an address


def test_the_proxy_check_can_fail() -> None:
    for value in ("*", "10.0.0.0/8, *", "ingress", "10.0.0.0/33"):
        with pytest.raises((AssertionError, ValueError)):
            check_trusted_proxies(value)
    check_trusted_proxies("10.244.0.0/16, 127.0.0.1, ::1")
    check_trusted_proxies("<ingress controller pod CIDRs>")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_reads_the_one_metrics_token_unprefixed(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_TOKEN", "token-of-the-deployment")
    settings: Any = settings_class(service)(database_url="postgresql+asyncpg://u@db/d")
    assert settings.metrics_token == "token-of-the-deployment"
    assert "METRICS_TOKEN" in env_names(service)


# --- docker-compose.yml ----------------------------------------------------------------------------------------------

def test_every_compose_process_that_serves_gets_the_metrics_token_from_the_environment(
        compose: dict[str, Any]) -> None:
    for name, (_, service) in app_services(compose).items():
        env = env_of(service)
        if name.endswith("-migrate"):
            assert "METRICS_TOKEN" not in env, f"{name} serves nothing and needs no metrics token"
            continue
        token = env.get("METRICS_TOKEN", "")
        assert INTERPOLATION.fullmatch(token) and token.startswith("${METRICS_TOKEN:?"), \
            f"{name}: METRICS_TOKEN must come from the operator's METRICS_TOKEN, and be required"


def test_the_compose_gateway_names_the_proxies_it_trusts(compose: dict[str, Any]) -> None:
    value = env_of(compose["services"]["gateway"])["FORWARDED_ALLOW_IPS"]
    match = re.fullmatch(r"\$\{FORWARDED_ALLOW_IPS:-([^}]*)\}", value)
    assert match, "the operator sets it (the address of their reverse proxy), with a default"
    check_trusted_proxies(match.group(1))


def test_every_server_leaves_forwarded_allow_ips_to_the_environment(
        compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # The command lines must not pass uvicorn an option that overrides the environment variable ...
    for name, (_, service) in app_services(compose).items():
        if not name.endswith("-migrate"):
            options = run_cli(list(service["command"]), monkeypatch).server_options
            assert "forwarded_allow_ips" not in options, f"{name} overrides FORWARDED_ALLOW_IPS"
            assert options.get("proxy_headers", True) is True, f"{name} ignores X-Forwarded-For altogether"
    # ... and uvicorn, given none, reads it and believes X-Forwarded-For from those addresses.
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.244.0.0/16")
    config = uvicorn.Config(app=lambda scope, receive, send: None)
    assert config.forwarded_allow_ips == "10.244.0.0/16" and config.proxy_headers is True


# --- deploy/k8s ------------------------------------------------------------------------------------------------------

def test_every_deployment_gets_the_metrics_token_from_one_secret_and_jobs_do_not(manifests: list[Manifest]) -> None:
    for name, deployment in of_kind(manifests, "Deployment").items():
        assert secret_refs(container_of(deployment)).get("METRICS_TOKEN") == METRICS_SECRET, name
    for name, job in of_kind(manifests, "Job").items():
        assert "METRICS_TOKEN" not in secret_refs(container_of(job)), f"{name} serves nothing"
    secrets = load_documents(K8S / "secrets.template.yaml")
    [template] = [s for s in secrets if s["metadata"]["name"] == METRICS_SECRET[0]]
    assert set(template["stringData"]) == {METRICS_SECRET[1]}


def test_the_production_gateway_names_the_ingress_it_trusts(manifests: list[Manifest]) -> None:
    maps = of_kind(manifests, "ConfigMap")
    gateway = container_of(of_kind(manifests, "Deployment")["gateway"])
    values: dict[str, str] = {}
    for source in gateway["envFrom"]:
        if "configMapRef" in source:
            values.update(maps[source["configMapRef"]["name"]]["data"])
    values.update({item["name"]: item["value"] for item in gateway.get("env", []) if "value" in item})
    assert "FORWARDED_ALLOW_IPS" in values, "the gateway behind the ingress must be told the ingress's addresses"
    check_trusted_proxies(values["FORWARDED_ALLOW_IPS"])
    # The base stays environment-neutral: the addresses are the overlay's to set.
    base_gateway_map = of_kind(build(K8S / "base"), "ConfigMap")["throughline-gateway"]["data"]
    assert "FORWARDED_ALLOW_IPS" not in base_gateway_map
