"""deploy/k8s: the production overlay, rendered offline, is valid by the Kubernetes schemas (strict) and
keeps the rules of running Throughline: probes, limits, non-root, consumers never beyond partitions."""

import re
from collections import Counter
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.kustomize import Manifest, build, load_documents
from tests.deploy.support import (
    CLI_ENV,
    PORTS,
    ROOT,
    RUNTIME_ENV,
    WORKER_SERVICES,
    consumed_topics,
    env_names,
    expected_topics,
    run_cli,
)
from throughline_events import TOPICS

K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"
STRIMZI_API = "kafka.strimzi.io/v1beta2"


@pytest.fixture(scope="module")
def manifests() -> list[Manifest]:
    return build(K8S / "overlays" / "production")


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def pod_of(manifest: Manifest) -> dict[str, Any]:
    pod: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return pod


def test_every_manifest_is_valid_by_the_kubernetes_schema(manifests: list[Manifest]) -> None:
    errors = []
    for manifest in manifests:
        if manifest["apiVersion"] == STRIMZI_API:
            continue  # a CRD: checked by test_kafka_topics_* below
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{manifest['kind']}/{manifest['metadata']['name']}: {exc.message}")
    assert not errors, "\n".join(errors)
    # The validator must be able to fail: a misspelt field is refused in strict mode.
    deployment = dict(of_kind(manifests, "Deployment")["crm-api"])
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**deployment, "spec": {**deployment["spec"], "replica": 2}},
                                     KUBERNETES_VERSION, strict=True)


def test_secret_template_is_valid_and_holds_placeholders_only() -> None:
    secrets = load_documents(K8S / "secrets.template.yaml")
    assert {s["metadata"]["name"] for s in secrets} == {
        "throughline-crm", "throughline-erp", "throughline-gateway", "throughline-event-keys",
        "throughline-crm-event-signing", "throughline-erp-event-signing", "throughline-gateway-event-signing",
        "throughline-metrics"}
    for secret in secrets:
        kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)
        for key, value in secret["stringData"].items():
            assert re.search(r"<[^>]+>", value), f"{secret['metadata']['name']}.{key} must be a <placeholder>"
            assert "BEGIN" not in value
    rendered = build(K8S / "overlays" / "production")
    assert not of_kind(rendered, "Secret"), "Secrets are created outside git, never rendered from it"


def test_api_relay_consumer_and_scheduler_run_as_separate_deployments(manifests: list[Manifest]) -> None:
    deployments = of_kind(manifests, "Deployment")
    # The gateway and its relay (its users' events, issue 23).
    expected = {f"{s}-{r}" for s in WORKER_SERVICES for r in ("api", "relay", "consumer", "scheduler")} | {
        "gateway", "gateway-relay"}
    assert set(deployments) == expected
    assert deployments["crm-scheduler"]["spec"]["replicas"] == 1
    assert deployments["crm-scheduler"]["spec"]["strategy"]["type"] == "Recreate"
    services = of_kind(manifests, "Service")
    assert set(services) == {"crm-api", "erp-api", "gateway"}
    for name, service in services.items():
        selected = service["spec"]["selector"]
        assert selected.items() <= deployments[name]["spec"]["template"]["metadata"]["labels"].items()


def test_every_deployment_has_probes_limits_and_runs_as_non_root(manifests: list[Manifest]) -> None:
    for name, deployment in of_kind(manifests, "Deployment").items():
        pod = pod_of(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        for container in pod["containers"]:
            assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
            limits, requests = container["resources"]["limits"], container["resources"]["requests"]
            assert {"cpu", "memory"} <= limits.keys() and {"cpu", "memory"} <= requests.keys(), name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
    for name, job in of_kind(manifests, "Job").items():
        pod = pod_of(job)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert all("limits" in c["resources"] for c in pod["containers"]), name


def test_apis_and_consumers_autoscale_and_consumers_never_beyond_partitions(manifests: list[Manifest]) -> None:
    hpas = of_kind(manifests, "HorizontalPodAutoscaler")
    deployments = of_kind(manifests, "Deployment")
    assert {f"{s}-api" for s in WORKER_SERVICES} | {f"{s}-consumer" for s in WORKER_SERVICES} | {"gateway"} <= set(hpas)
    for name, hpa in hpas.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments, name
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], name
        if name.endswith("-consumer"):
            service = name.removesuffix("-consumer")
            partitions = min(TOPICS[t].partitions for t in consumed_topics(service))
            assert hpa["spec"]["maxReplicas"] <= partitions, \
                f"{name} may scale to {hpa['spec']['maxReplicas']} but its topics have {partitions} partitions"


def test_every_command_is_accepted_by_the_real_cli(manifests: list[Manifest], monkeypatch: pytest.MonkeyPatch) -> None:
    workloads = [*of_kind(manifests, "Deployment").values(), *of_kind(manifests, "Job").values()]
    for workload in workloads:
        name = workload["metadata"]["name"]
        for container in pod_of(workload)["containers"]:
            invocation = run_cli(list(container["command"]), monkeypatch)
            module = container["command"][2]
            assert container["image"].split("/")[-1].startswith(f"{module}:"), f"{name} runs {module} in another image"
            if workload["kind"] == "Job":
                assert invocation.command == "migrate", name
                continue
            assert invocation.command == "serve" and invocation.host == "0.0.0.0", name
            assert invocation.port == PORTS[module] == container["ports"][0]["containerPort"], name
            if module in WORKER_SERVICES:
                assert invocation.roles == {name.split("-", 1)[1]}, name


def test_config_maps_hold_only_settings_the_services_read(manifests: list[Manifest]) -> None:
    maps = of_kind(manifests, "ConfigMap")
    for name, deployment in of_kind(manifests, "Deployment").items():
        module = pod_of(deployment)["containers"][0]["command"][2]
        known = env_names(module) | CLI_ENV | RUNTIME_ENV
        container = pod_of(deployment)["containers"][0]
        names = {e["name"] for e in container.get("env", [])}
        for source in container["envFrom"]:
            if "configMapRef" in source:
                names |= set(maps[source["configMapRef"]["name"]]["data"])
            else:
                assert source["secretRef"]["name"] == f"throughline-{module}", name
        unknown = names - known
        assert not unknown, f"{name} is given settings nothing reads: {sorted(unknown)}"


def test_kafka_topics_declare_every_topic_and_dead_letter_topic(manifests: list[Manifest]) -> None:
    topics = [m for m in manifests if m["kind"] == "KafkaTopic"]
    for topic in topics:
        assert topic["apiVersion"] == STRIMZI_API
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", topic["metadata"]["name"]), "not a DNS-1123 name"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"]
        spec = topic["spec"]
        assert spec["replicas"] >= 3 and int(spec["config"]["min.insync.replicas"]) == spec["replicas"] - 1
    declared = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in topics}
    assert declared == expected_topics()
    assert not [n for n, c in Counter(t["metadata"]["name"] for t in topics).items() if c > 1]
