"""The settings every event-driven service has (the CRM's `CRM_...`, the ERP's `ERP_...`)."""

from typing import ClassVar

from pydantic import Field

from throughline_platform.settings import ServiceSettingsBase


class EventDrivenSettings(ServiceSettingsBase):
    unprefixed: ClassVar[tuple[str, ...]] = ("kafka_bootstrap_servers", "jwt_public_key")

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
