"""ERP settings from the environment (prefix ERP_; the broker address is shared as KAFKA_BOOTSTRAP_SERVERS)."""

from functools import lru_cache

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ErpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ERP_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/erp"
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=AliasChoices("ERP_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"))
    jwt_public_key: str = Field("", validation_alias=AliasChoices("ERP_JWT_PUBLIC_KEY", "JWT_PUBLIC_KEY"))
    consumer_group: str = "erp"
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    db_pool_size: int = 10
    log_level: str = "INFO"


@lru_cache
def get_settings() -> ErpSettings:
    return ErpSettings()
