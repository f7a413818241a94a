"""CRM settings from the environment (prefix CRM_; the broker address is shared as KAFKA_BOOTSTRAP_SERVERS)."""

from functools import lru_cache

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CrmSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm"
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=AliasChoices("CRM_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"))
    jwt_public_key: str = Field("", validation_alias=AliasChoices("CRM_JWT_PUBLIC_KEY", "JWT_PUBLIC_KEY"))
    consumer_group: str = "crm"
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
    db_pool_size: int = 10
    log_level: str = "INFO"
    # Public lead capture (website forms): accepted X-API-Key values, comma-separated, and the rate per key.
    lead_capture_keys: str = ""
    lead_capture_per_minute: int = 30
    # A deal with no activity for this many days is flagged as idle.
    idle_deal_days: int = 14
    # How often the scheduler evaluates time-based automation rules.
    automation_interval_seconds: float = 60.0
    # Largest CSV accepted by an import.
    import_max_bytes: int = 5_000_000

    def capture_keys(self) -> list[str]:
        return [key.strip() for key in self.lead_capture_keys.split(",") if key.strip()]


@lru_cache
def get_settings() -> CrmSettings:
    return CrmSettings()
