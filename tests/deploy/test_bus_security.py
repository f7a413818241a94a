"""The authenticated bus of the production files: docker-compose.yml's broker and deploy/k8s's Strimzi cluster take
only SASL/SCRAM logins over TLS, every Kafka user may do exactly what the code needs (the topics and consumer groups
are taken from throughline_events and the services' settings, never copied), only the CRM writes crm.* and only
the ERP erp.*, and each process gets the credentials and event keys of its role and no more.

The Strimzi resources (Kafka, KafkaNodePool, KafkaUser) are custom resources that kubernetes-validate does not know,
and Strimzi's CRD schemas are on neither PyPI nor npm: their structure is checked here against the fields Strimzi
documents for kafka.strimzi.io/v1beta2 (the KafkaUser's complete: every key must be one Strimzi knows).
"""

import re
from typing import Any

import pytest
import yaml

from tests.deploy.kustomize import Manifest, build
from tests.deploy.support import (
    INTERPOLATION,
    KAFKA_USERS,
    ROOT,
    WORKER_SERVICES,
    Access,
    consumed_topics,
    consumer_group,
    expected_access,
)
from tests.deploy.test_compose import app_services, env_of
from throughline_events import TOPICS, dead_letter_topic
from throughline_platform.event_signing import topic_service

STRIMZI_API = "kafka.strimzi.io/v1beta2"
GRANTS = ROOT / "deploy" / "kafka" / "grant-access.sh"
ROLES_TALKING_TO_KAFKA = ("relay", "consumer")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


@pytest.fixture(scope="module")
def manifests() -> list[Manifest]:
    return build(ROOT / "deploy" / "k8s" / "overlays" / "production")


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


# --- who may do what -------------------------------------------------------------------------------------------------

def compose_grants() -> dict[str, Access]:
    """The ACLs deploy/kafka/grant-access.sh adds, per user."""
    grants: dict[str, dict[str, set[str]]] = {}
    for verb, kind, user, name in re.findall(r"^(write|read)_(topic|group) (\S+) (\S+)$", GRANTS.read_text(), re.M):
        slot = "groups" if kind == "group" else ("writes" if verb == "write" else "reads")
        grants.setdefault(user, {"writes": set(), "reads": set(), "groups": set()})[slot].add(name)
    assert not re.search(r"^(?!\s*#)\s*allow\s", GRANTS.read_text(), re.M), "grant through write_/read_ lines only"
    return {user: Access(**{k: frozenset(v) for k, v in slots.items()}) for user, slots in grants.items()}


# The operations a KafkaUser ACL may name (Strimzi's KafkaUser CRD), and the subset we use.
STRIMZI_OPERATIONS = {"Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "AlterConfigs",
                      "DescribeConfigs", "IdempotentWrite", "All"}


def check_kafka_user_structure(user: Manifest, cluster: str) -> None:
    name = user["metadata"]["name"]
    assert user["apiVersion"] == STRIMZI_API and user["kind"] == "KafkaUser", name
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), f"{name}: not a DNS-1123 name"
    assert user["metadata"]["labels"]["strimzi.io/cluster"] == cluster, name
    spec = user["spec"]
    assert set(spec) <= {"authentication", "authorization", "quotas", "template"}, f"{name}: {sorted(spec)}"
    assert spec["authentication"] == {"type": "scram-sha-512"}, name
    authorization = spec["authorization"]
    assert set(authorization) == {"type", "acls"} and authorization["type"] == "simple", name
    for acl in authorization["acls"]:
        assert set(acl) <= {"resource", "operations", "host", "type"} and acl.get("type", "allow") == "allow", name
        resource = acl["resource"]
        assert set(resource) <= {"type", "name", "patternType"}, name
        assert resource["type"] in {"topic", "group", "cluster", "transactionalId"}, name
        assert resource.get("patternType", "literal") == "literal", f"{name}: {resource} (literal names only)"
        assert acl["operations"] and set(acl["operations"]) <= STRIMZI_OPERATIONS, name


def kubernetes_grants(manifests: list[Manifest], cluster: str) -> dict[str, Access]:
    grants: dict[str, Access] = {}
    for name, user in of_kind(manifests, "KafkaUser").items():
        check_kafka_user_structure(user, cluster)
        writes: set[str] = set()
        reads: set[str] = set()
        groups: set[str] = set()
        for acl in user["spec"]["authorization"]["acls"]:
            resource, operations = acl["resource"], set(acl["operations"])
            if resource["type"] == "group":
                assert operations == {"Read"}, name
                groups.add(resource["name"])
            else:
                assert resource["type"] == "topic" and operations in ({"Read"}, {"Write"}), f"{name}: {acl}"
                (writes if operations == {"Write"} else reads).add(resource["name"])
        grants[name] = Access(frozenset(writes), frozenset(reads), frozenset(groups))
    return grants


def test_the_compose_acls_grant_each_user_exactly_what_the_code_uses() -> None:
    assert compose_grants() == expected_access()


def test_the_kafka_users_grant_each_user_exactly_what_the_code_uses(manifests: list[Manifest]) -> None:
    [cluster] = of_kind(manifests, "Kafka")
    assert kubernetes_grants(manifests, cluster) == expected_access()


def test_the_structure_check_can_fail(manifests: list[Manifest]) -> None:
    user = of_kind(manifests, "KafkaUser")["crm"]
    for broken in ({**user, "apiVersion": "kafka.strimzi.io/v1alpha1"},
                   {**user, "spec": {**user["spec"], "authentication": {"type": "scram-sha-256"}}},
                   {**user, "spec": {**user["spec"], "acl": []}},
                   {**user, "spec": {**user["spec"], "authorization": {"type": "simple", "acls": [
                       {"resource": {"type": "topic", "name": "crm.", "patternType": "prefix"},
                        "operations": ["Write"]}]}}}):
        with pytest.raises(AssertionError):
            check_kafka_user_structure(broken, "throughline")


@pytest.mark.parametrize("where", ["compose", "kubernetes"])
def test_only_the_crm_writes_crm_topics_and_only_the_erp_writes_erp_topics(
        where: str, manifests: list[Manifest]) -> None:
    grants = compose_grants() if where == "compose" else kubernetes_grants(manifests, "throughline")
    replay = grants.pop(KAFKA_USERS["replay"])
    for topic in TOPICS:
        writers = {user for user, access in grants.items() if topic in access.writes}
        assert writers == {KAFKA_USERS[topic_service(topic)]}, f"{topic} is written by {sorted(writers)}"
    for service in WORKER_SERVICES:
        for topic in consumed_topics(service):
            dlt = dead_letter_topic(topic, consumer_group(service))
            assert {user for user, access in grants.items() if topic in access.reads and user != "gateway"} == {
                KAFKA_USERS[service]}
            assert {user for user, access in grants.items() if dlt in access.writes} == {KAFKA_USERS[service]}
    # The replay user writes back only to topics that have a dead-letter topic; it cannot mint events (they keep
    # their producer's signature), and it reads nothing else.
    assert replay.writes <= {t for s in WORKER_SERVICES for t in consumed_topics(s)}
    assert all(topic.endswith(".dlt") for topic in replay.reads)


# --- docker-compose.yml ----------------------------------------------------------------------------------------------

def test_the_compose_broker_takes_only_scram_logins_over_tls_and_refuses_what_is_not_granted(
        compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert "start-broker.sh" in " ".join(kafka["entrypoint"])
    protocols = dict(item.split(":") for item in env["KAFKA_CFG_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    for listener in env["KAFKA_CFG_LISTENERS"].split(","):
        name, address = listener.split("://")
        if protocols[name] != "SASL_SSL":  # a listener without authentication: on the loopback only
            assert address.startswith("127.0.0.1:"), f"{listener} takes unauthenticated connections from outside"
    advertised = env["KAFKA_CFG_ADVERTISED_LISTENERS"].split(",")
    assert advertised and all(protocols[a.split("://")[0]] == "SASL_SSL" for a in advertised)
    assert protocols[env["KAFKA_CFG_INTER_BROKER_LISTENER_NAME"]] == "SASL_SSL"
    assert env["KAFKA_CFG_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_CFG_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert env["KAFKA_CFG_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert set(env["KAFKA_CFG_SUPER_USERS"].split(";")) <= {"User:admin", "User:ANONYMOUS"}
    # The TLS files come from a directory the operator names; the broker reads its key, chain and CA from it.
    tls_mount = next(v for v in kafka["volumes"] if "KAFKA_TLS_DIR" in v)
    assert INTERPOLATION.search(tls_mount)
    tls_dir = tls_mount.split(":")[-2]
    for setting in ("KAFKA_CFG_SSL_KEYSTORE_LOCATION", "KAFKA_CFG_SSL_TRUSTSTORE_LOCATION"):
        assert env[setting].startswith(tls_dir + "/"), setting
    for secret in ("KAFKA_ADMIN_PASSWORD", "KAFKA_CLUSTER_ID"):
        assert INTERPOLATION.search(env[secret]), secret
    # The start script turns every KAFKA_CFG_ setting into a property, and logs the broker in as admin.
    script = (ROOT / "deploy" / "kafka" / "start-broker.sh").read_text()
    assert "KAFKA_CFG_" in script and "--add-scram" in script and "listener.name.sasl_ssl.scram-sha-512" in script


def test_kafka_init_creates_the_users_with_passwords_from_the_environment(compose: dict[str, Any]) -> None:
    init = compose["services"]["kafka-init"]
    assert "grant-access.sh" in " ".join(init["entrypoint"])
    assert any("grant-access.sh" in v for v in init["volumes"])
    users = set(re.findall(r'^user (\S+) "\$\{(KAFKA_[A-Z_]+_PASSWORD)', GRANTS.read_text(), re.M))
    assert {user for user, _ in users} == set(expected_access())
    for _, variable in users:
        assert INTERPOLATION.search(init["environment"][variable]), variable


def service_container_env(compose: dict[str, Any]) -> dict[str, tuple[str, dict[str, str], dict[str, Any]]]:
    return {name: (module, env_of(service), service) for name, (module, service) in app_services(compose).items()}


def test_each_compose_process_logs_in_as_its_service_and_only_relays_hold_a_signing_key(
        compose: dict[str, Any]) -> None:
    advertised = compose["services"]["kafka"]["environment"]["KAFKA_CFG_ADVERTISED_LISTENERS"]
    for name, (module, env, service) in service_container_env(compose).items():
        prefix, role = module.upper(), name.split("-", 1)[1] if "-" in name else "gateway"
        signing = {key for key in env if "EVENT_SIGNING_KEY" in key}
        talks_to_kafka = role in ROLES_TALKING_TO_KAFKA or name == "gateway"
        if role == "migrate":
            assert not signing and f"{prefix}_KAFKA_SASL_PASSWORD" not in env, name
            continue
        if talks_to_kafka:
            assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
            assert env["KAFKA_BOOTSTRAP_SERVERS"] == advertised.split("://")[1], name
            assert env[f"{prefix}_KAFKA_SASL_USERNAME"] == KAFKA_USERS[module], name
            password = env[f"{prefix}_KAFKA_SASL_PASSWORD"]
            assert INTERPOLATION.search(password) and f"KAFKA_{prefix}_PASSWORD" in password, name
            assert INTERPOLATION.search(env["EVENT_VERIFY_KEYS"]), name
            mounts = {v.split(":")[-2] for v in service.get("volumes", [])}
            assert env["KAFKA_SSL_CAFILE"] in mounts, f"{name}: the broker's CA is not mounted"
        else:  # api, scheduler: no Kafka login
            assert f"{prefix}_KAFKA_SASL_PASSWORD" not in env, f"{name} holds a Kafka password it does not need"
        if role == "relay":
            assert signing == {f"{prefix}_EVENT_SIGNING_KEY", f"{prefix}_EVENT_SIGNING_KEY_ID"}, name
            assert all(INTERPOLATION.search(env[key]) for key in signing), name
        else:
            assert not signing, f"{name} holds a signing key it does not need"


# --- deploy/k8s ------------------------------------------------------------------------------------------------------

def test_the_strimzi_cluster_takes_only_scram_logins_over_tls_with_acls(manifests: list[Manifest]) -> None:
    [(name, cluster)] = of_kind(manifests, "Kafka").items()
    assert cluster["apiVersion"] == STRIMZI_API
    kafka = cluster["spec"]["kafka"]
    assert kafka["listeners"], "the cluster needs a listener"
    for listener in kafka["listeners"]:
        assert set(listener) <= {"name", "port", "type", "tls", "authentication", "configuration",
                                 "networkPolicyPeers"}, listener
        assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512", listener["name"]
    assert kafka["authorization"]["type"] == "simple"
    assert kafka["config"]["auto.create.topics.enable"] is False
    assert {"topicOperator", "userOperator"} <= set(cluster["spec"]["entityOperator"])
    assert cluster["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    pools = of_kind(manifests, "KafkaNodePool")
    assert pools and all(p["metadata"]["labels"]["strimzi.io/cluster"] == name for p in pools.values())
    assert {"controller", "broker"} <= {role for p in pools.values() for role in p["spec"]["roles"]}
    for kind in ("KafkaTopic", "KafkaUser"):
        assert {m["metadata"]["labels"]["strimzi.io/cluster"] for m in of_kind(manifests, kind).values()} == {name}
    # The services connect to that listener, through Strimzi's bootstrap Service.
    common = of_kind(manifests, "ConfigMap")["throughline-common"]["data"]
    [listener] = kafka["listeners"]
    assert common["KAFKA_BOOTSTRAP_SERVERS"] == f"{name}-kafka-bootstrap:{listener['port']}"
    assert common["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and common["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


def env_sources(deployment: Manifest, maps: dict[str, Manifest]) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(plain values from ConfigMaps and env, {name: (secret, key)} for values taken from Secrets)."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    values: dict[str, str] = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            values.update(maps[source["configMapRef"]["name"]]["data"])
    secrets = {}
    for item in container.get("env", []):
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            secrets[item["name"]] = (ref["name"], ref["key"])
        else:
            values[item["name"]] = item["value"]
    return values, secrets


def test_each_deployment_gets_its_kafka_login_from_strimzi_and_only_relays_the_signing_key(
        manifests: list[Manifest]) -> None:
    maps, users = of_kind(manifests, "ConfigMap"), of_kind(manifests, "KafkaUser")
    [cluster] = of_kind(manifests, "Kafka")
    for name, deployment in of_kind(manifests, "Deployment").items():
        module = deployment["spec"]["template"]["spec"]["containers"][0]["command"][2]
        prefix, role = module.upper(), name.split("-", 1)[1] if "-" in name else "gateway"
        values, secrets = env_sources(deployment, maps)
        signing = {key for key in secrets if "EVENT_SIGNING_KEY" in key}
        if role in ROLES_TALKING_TO_KAFKA or role == "gateway":
            username = values[f"{prefix}_KAFKA_SASL_USERNAME"]
            assert username == KAFKA_USERS[module] and username in users, name
            # The Secret Strimzi's User Operator makes for the KafkaUser has its name, the password under "password".
            assert secrets[f"{prefix}_KAFKA_SASL_PASSWORD"] == (username, "password"), name
            assert secrets["EVENT_VERIFY_KEYS"] == ("throughline-event-keys", "EVENT_VERIFY_KEYS"), name
            pod = deployment["spec"]["template"]["spec"]
            ca_volumes = {v["name"] for v in pod["volumes"]
                          if v.get("secret", {}).get("secretName") == f"{cluster}-cluster-ca-cert"}
            mounted = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"] if m["name"] in ca_volumes}
            assert any(values["KAFKA_SSL_CAFILE"].startswith(path + "/") for path in mounted), name
        else:
            assert f"{prefix}_KAFKA_SASL_PASSWORD" not in secrets, f"{name} holds a Kafka password it does not need"
        if role == "relay":
            assert {secrets[key] for key in signing} == {
                (f"throughline-{module}-event-signing", f"{prefix}_EVENT_SIGNING_KEY"),
                (f"throughline-{module}-event-signing", f"{prefix}_EVENT_SIGNING_KEY_ID")}, name
        else:
            assert not signing, f"{name} holds a signing key it does not need"


def test_the_grants_are_the_same_in_both_files(manifests: list[Manifest]) -> None:
    assert compose_grants() == kubernetes_grants(manifests, "throughline")
