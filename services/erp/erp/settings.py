"""ERP settings from the environment (prefix ERP_; the base class says which settings
may also come without it)."""

from decimal import Decimal
from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from throughline_messaging.settings import EventDrivenSettings


class ErpSettings(EventDrivenSettings):
    model_config = SettingsConfigDict(env_prefix="ERP_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/erp"
    consumer_group: str = "erp"
    # --- billing (docs/erp-billing.md) ---
    invoice_prefix: str = Field("INV", pattern="^[A-Z]{2,6}$")
    credit_note_prefix: str = Field("CN", pattern="^[A-Z]{2,6}$")
    # The percent of a line that names no tax rate when neither its client nor a default rate decides (erp.taxes).
    default_tax_rate: Decimal = Field(Decimal(0), ge=0, le=100)
    billing_run_issue: bool = True  # the scheduled run issues its invoices (False: leaves drafts)
    billing_run_interval_seconds: float = Field(86_400, gt=0)
    # Dunning: days after the due date at which each reminder step is sent.
    reminder_steps: str = Field("3,7,14", pattern=r"^\s*\d+(\s*,\s*\d+)*\s*$")
    reminder_interval_seconds: float = Field(86_400, gt=0)
    # How often the scheduler renders the documents of newly issued invoices (erp.documents.jobs).
    document_render_interval_seconds: float = Field(30, gt=0)
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
