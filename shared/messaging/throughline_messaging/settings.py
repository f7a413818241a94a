"""The settings every event-driven service has (the CRM's `CRM_...`, the ERP's `ERP_...`)."""

from typing import ClassVar, Literal

from pydantic import Field

from throughline_messaging.kafka import KafkaSettings
from throughline_platform.event_signing import EventKeyError, EventSigner, EventVerifier, KeyRing
from throughline_platform.settings import ServiceSettingsBase


class EventDrivenSettings(ServiceSettingsBase):
    # Shared by every service of one deployment, so they may come without the service's prefix too.
    unprefixed: ClassVar[tuple[str, ...]] = (
        "kafka_bootstrap_servers", "jwt_public_key", "event_verify_keys", "kafka_security_protocol",
        "kafka_sasl_mechanism", "kafka_ssl_cafile")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # The gateway's public key: the API verifies every access token itself.
    jwt_public_key: str = ""
    consumer_group: str
    # Partitions of one member handled side by side, each share in its own transactions (docs/messaging.md).
    consumer_lanes: int = Field(1, ge=1, le=16)
    # Longest wait before handled offsets are committed (0: after every batch); a crash redelivers about this
    # long's worth of handled events, which the inbox skips (docs/messaging.md).
    consumer_commit_interval_ms: int = Field(1000, ge=0)
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    kafka_fetch_max_wait_ms: int = 500
    # Replicas of each topic this service creates; 3 on a production cluster, 1 on a single broker.
    kafka_replication_factor: int = 1
    # How this service reaches the broker (docs/security.md): PLAINTEXT on the embedded dev broker; SASL_SSL with
    # SCRAM-SHA-512, the service's own Kafka user and the broker's CA certificate in production.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = Field("", repr=False)
    kafka_ssl_cafile: str = ""
    # Event signatures (docs/security.md). The private key (Ed25519, PEM) the relay signs this service's events
    # with, and its id; only relay processes need them.
    event_signing_key: str = Field("", repr=False)
    event_signing_key_id: str = ""
    # Every key a reader believes, as JSON {"<key id>": {"service": "crm", "public_key": "<PEM>"}}; the same for
    # every service. Consumers need it.
    event_verify_keys: str = ""

    def kafka_settings(self, client_id: str) -> KafkaSettings:
        return KafkaSettings(
            bootstrap_servers=self.kafka_bootstrap_servers, client_id=client_id,
            session_timeout_ms=self.kafka_session_timeout_ms, heartbeat_interval_ms=self.kafka_heartbeat_interval_ms,
            fetch_max_wait_ms=self.kafka_fetch_max_wait_ms, replication_factor=self.kafka_replication_factor,
            security_protocol=self.kafka_security_protocol, sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username, sasl_password=self.kafka_sasl_password,
            ssl_cafile=self.kafka_ssl_cafile,
        )

    def event_signer(self, service: str) -> EventSigner | None:
        """The signer of this service's events, or None when no key is configured."""
        if not self.event_signing_key:
            return None
        if not self.event_signing_key_id:
            raise EventKeyError(f"{service.upper()}_EVENT_SIGNING_KEY is set without "
                                f"{service.upper()}_EVENT_SIGNING_KEY_ID, the id readers know the key by")
        return EventSigner.from_pem(self.event_signing_key_id, service, self.event_signing_key)

    def event_verifier(self) -> EventVerifier | None:
        """The verifier of the events this service reads, or None when no key ring is configured."""
        return EventVerifier(KeyRing.from_json(self.event_verify_keys)) if self.event_verify_keys else None
