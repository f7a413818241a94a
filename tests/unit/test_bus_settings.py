"""The bus settings of an event-driven service: which keys each role needs, and how clients log in to the broker."""

import json
import ssl

import pytest
from pydantic_settings import SettingsConfigDict

from throughline_messaging.app import event_keys
from throughline_messaging.kafka import KafkaSettings, _outcome, topics_for_group
from throughline_messaging.settings import EventDrivenSettings
from throughline_platform.event_signing import (
    EventKeyError,
    key_id_for,
    load_private_key,
    new_private_key_pem,
    public_key_pem,
)


class ShopSettings(EventDrivenSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str = "postgresql+asyncpg://nobody@nowhere/crm"
    consumer_group: str = "crm"


PRIVATE = new_private_key_pem()
KEY_ID = key_id_for("crm", load_private_key(PRIVATE))
RING = json.dumps({KEY_ID: {"service": "crm", "public_key": public_key_pem(load_private_key(PRIVATE))}})


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EVENT_VERIFY_KEYS", "CRM_EVENT_VERIFY_KEYS", "CRM_EVENT_SIGNING_KEY", "CRM_EVENT_SIGNING_KEY_ID",
                 "KAFKA_SECURITY_PROTOCOL", "CRM_KAFKA_SECURITY_PROTOCOL", "CRM_KAFKA_SASL_USERNAME",
                 "CRM_KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE"):
        monkeypatch.delenv(name, raising=False)


def test_keys_come_from_the_environment_the_ring_also_unprefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_EVENT_SIGNING_KEY", PRIVATE)
    monkeypatch.setenv("CRM_EVENT_SIGNING_KEY_ID", KEY_ID)
    monkeypatch.setenv("EVENT_VERIFY_KEYS", RING)
    signer, verifier = event_keys("crm", ShopSettings(), frozenset({"relay", "consumer"}))
    assert signer is not None and signer.key_id == KEY_ID and signer.service == "crm"
    assert verifier is not None and set(verifier.ring.keys) == {KEY_ID}
    assert "BEGIN PRIVATE KEY" not in repr(ShopSettings())  # never logged with the settings


def test_each_role_refuses_to_run_without_its_key() -> None:
    with pytest.raises(EventKeyError, match="CRM_EVENT_SIGNING_KEY"):
        event_keys("crm", ShopSettings(event_verify_keys=RING), frozenset({"relay"}))
    with pytest.raises(EventKeyError, match="EVENT_VERIFY_KEYS"):
        event_keys("crm", ShopSettings(event_signing_key=PRIVATE, event_signing_key_id=KEY_ID),
                   frozenset({"consumer"}))
    with pytest.raises(EventKeyError, match="CRM_EVENT_SIGNING_KEY_ID"):
        event_keys("crm", ShopSettings(event_signing_key=PRIVATE), frozenset({"relay"}))
    # An API or a scheduler publishes and reads nothing itself: it needs neither.
    assert event_keys("crm", ShopSettings(), frozenset({"api", "scheduler"})) == (None, None)


def test_a_relay_whose_key_the_readers_do_not_know_refuses_to_start() -> None:
    other = new_private_key_pem()
    with pytest.raises(EventKeyError, match="readers would refuse"):
        event_keys("crm", ShopSettings(event_signing_key=other, event_signing_key_id=KEY_ID, event_verify_keys=RING),
                   frozenset({"relay"}))
    erp_ring = RING.replace('"service": "crm"', '"service": "erp"')
    with pytest.raises(EventKeyError, match="readers would refuse"):
        event_keys("crm", ShopSettings(event_signing_key=PRIVATE, event_signing_key_id=KEY_ID,
                                       event_verify_keys=erp_ring), frozenset({"relay"}))


def test_plaintext_on_the_dev_broker_scram_over_tls_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ShopSettings().kafka_settings("crm").client_options() == {"security_protocol": "PLAINTEXT"}
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")  # shared by the deployment: unprefixed
    monkeypatch.setenv("CRM_KAFKA_SASL_USERNAME", "crm")
    monkeypatch.setenv("CRM_KAFKA_SASL_PASSWORD", "s3cret")
    kafka = ShopSettings().kafka_settings("crm")
    assert kafka.missing_credentials() is None
    options = kafka.client_options()
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("crm", "s3cret")
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext) and context.check_hostname  # the broker's name is checked
    assert "s3cret" not in repr(kafka)


def test_sasl_without_a_user_is_named_as_missing() -> None:
    kafka = KafkaSettings("kafka:9093", "crm", security_protocol="SASL_SSL")
    assert kafka.missing_credentials() is not None and "SASL" in kafka.missing_credentials()  # type: ignore[operator]
    with pytest.raises(ValueError, match="security protocol"):
        KafkaSettings("kafka:9093", "crm", security_protocol="SASL_TLS")


def test_a_service_ensures_only_the_topics_it_publishes_or_consumes() -> None:
    wanted = topics_for_group(["erp.project.events", "erp.invoice.events"], "crm", producer="crm")
    assert set(wanted) == {"crm.lead.events", "crm.account.events", "crm.deal.events", "erp.project.events",
                           "erp.invoice.events", "erp.project.events.crm.dlt", "erp.invoice.events.crm.dlt"}
    assert "erp.expense.events" in topics_for_group([], "crm")  # no producer named: the whole registry


def test_topics_the_broker_refused_to_create_are_told_apart_from_created_ones() -> None:
    class Response:
        topic_errors = [("a", 0, None), ("b", 36, "exists"), ("c", 29, "Authorization failed.")]

    assert _outcome(Response()) == (["a"], {"c": "error 29 Authorization failed."})
