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
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    db_pool_size: int = 10
    log_level: str = "INFO"


@lru_cache
def get_settings() -> CrmSettings:
    return CrmSettings()
