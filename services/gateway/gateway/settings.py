"""Gateway settings from the environment (prefix GATEWAY_; the first admin from ADMIN_EMAIL/ADMIN_PASSWORD)."""

from functools import lru_cache
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from throughline_platform.settings import ServiceSettingsBase


class GatewaySettings(ServiceSettingsBase):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")
    unprefixed: ClassVar[tuple[str, ...]] = ("admin_email", "admin_password")  # and METRICS_TOKEN (every service)

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/gateway"
    crm_url: str = "http://127.0.0.1:8001"
    erp_url: str = "http://127.0.0.1:8002"
    # Extra readiness endpoints folded into GET /health (e.g. the relay and consumer workers).
    health_urls: dict[str, str] = Field(default_factory=dict)
    jwt_private_key: str = ""
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    admin_email: str = "admin@example.com"
    admin_password: str = "admin"
    upstream_timeout_seconds: float = 10.0
    # A file upload (multipart/form-data: a bank statement of thousands of lines) may take the service longer.
    upload_timeout_seconds: float = 120.0
    upstream_connect_timeout_seconds: float = 2.0
    upstream_retries: int = 2  # extra attempts for idempotent methods on connect failures
    breaker_failure_threshold: int = 5  # consecutive failures that open an upstream's circuit
    breaker_cooldown_seconds: float = 10.0  # how long it stays open before one trial request
    db_pool_size: int = 5  # the gateway's own store is small: users, tokens, keys, idempotency records
    cors_origins: list[str] = Field(default_factory=list)
    # Token buckets per caller: this many requests per minute, bursting up to the same number; 0 turns them off.
    rate_limit_per_minute: int = 6000
    api_key_rate_limit_per_minute: int = 6000
    # Public lead capture (website forms, no token): posts per minute from one client address; 0 turns it off. The
    # CRM limits each capture key as well (CRM_LEAD_CAPTURE_PER_MINUTE).
    lead_capture_per_minute_per_address: int = 30
    # The other public routes (a client's invoice or quote page and its PDF, unsubscribe links, inbound-parse posts):
    # requests per minute from one client address; 0 turns it off. Higher than capture's, as one client reads a page,
    # its PDF and answers, and an inbound-parse service posts every reply from a few addresses.
    public_per_minute_per_address: int = 120
    # How long an invitation's or a reset's set-password link works.
    password_link_hours: int = 72
    # Login throttling (gateway/auth/throttle.py): attempts allowed before the backoff starts, per account and per
    # client address, and the longest wait it reaches (doubling from 1 s).
    login_free_attempts_per_account: int = 5
    login_free_attempts_per_address: int = 20
    login_max_delay_seconds: float = 900.0
    # The embedded SMTP server's mail directory (`make run` and the tests set it: $THROUGHLINE_VAR/mail): the admin's
    # "Sent mail" page lists what it kept. Unset (a real SMTP server, production): the page is off (404).
    sent_mail_dir: str | None = None


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
