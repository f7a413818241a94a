"""ERP settings from the environment (prefix ERP_; the broker address is shared as KAFKA_BOOTSTRAP_SERVERS)."""

from decimal import Decimal
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
    # --- billing (docs/erp-billing.md) ---
    invoice_prefix: str = Field("INV", pattern="^[A-Z]{2,6}$")
    credit_note_prefix: str = Field("CN", pattern="^[A-Z]{2,6}$")
    default_tax_rate: Decimal = Field(Decimal(0), ge=0, le=100)  # on lines the billing run creates
    billing_run_issue: bool = True  # the scheduled run issues its invoices (False: leaves drafts)
    billing_run_interval_seconds: float = Field(86_400, gt=0)
    # Dunning: days after the due date at which each reminder step is sent.
    reminder_steps: str = Field("3,7,14", pattern=r"^\s*\d+(\s*,\s*\d+)*\s*$")
    reminder_interval_seconds: float = Field(86_400, gt=0)
    late_fee_percent: Decimal | None = Field(None, ge=0, le=100)  # default for new invoices
    late_fee_step: int | None = Field(None, ge=1)  # the step that adds the late fee (default: the last)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "billing@throughline.local"
    # Expenses (costs): the approval chain and the receipt policy, amounts in the expense's own currency.
    expense_manager_limit: Decimal = Field(Decimal("1000"), ge=0)
    receipt_required_above: Decimal = Field(Decimal("50"), ge=0)
    receipt_max_bytes: int = Field(4 * 1024 * 1024, ge=1)

    def reminder_step_days(self) -> list[int]:
        return sorted({int(part) for part in self.reminder_steps.split(",")})


@lru_cache
def get_settings() -> ErpSettings:
    return ErpSettings()
