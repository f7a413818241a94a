"""ERP settings from the environment (prefix ERP_; the base class says which settings
may also come without it)."""

from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from throughline_events.money import check_amount, parse_decimal
from throughline_messaging.settings import EventDrivenSettings
from throughline_platform.mail.settings import MailSettings


class ErpSettings(EventDrivenSettings, MailSettings):
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
    # --- mail (docs/erp-invoicing-out.md, "Sending"): the SMTP server and the link secret come from MailSettings
    # (SMTP_HOST, ERP_LINK_SECRET, PUBLIC_BASE_URL); the From of invoices and reminders is the ERP's own.
    smtp_from: str = "Throughline billing <billing@throughline.local>"
    # Senders in the scheduler role (each one SMTP connection, one message at a time).
    mail_senders: int = Field(1, ge=1, le=8)
    # How long the link to an invoice's client page opens it (days after it was sent).
    invoice_link_days: int = Field(90, ge=1, le=3650)
    # Expenses (costs): the approval chain and the receipt policy. A project manager may decide an expense up to
    # the limit of its currency ("EUR:1000,USD:1100"); above it, or in a currency without a limit, finance decides.
    # Per currency because the ERP has no exchange rates yet: one number for every currency let 999 CLF (about
    # 37,000 EUR) pass a project manager (docs/erp-costs.md).
    expense_manager_limits: str = "EUR:1000,USD:1100,GBP:900"
    receipt_required_above: Decimal = Field(Decimal("50"), ge=0)
    receipt_max_bytes: int = Field(4 * 1024 * 1024, ge=1)
    # The books (docs/erp-ledger.md): every business fact posts its journal entry. Off ONLY for the benchmark's
    # side-by-side measure of what posting costs (`python -m bench --only ledger`): with it off the books miss
    # every fact of that time and nothing posts them later.
    ledger_posting: bool = True
    # Where the trial balance, P&L and balance sheet sum from: the monthly balances for the full months of a range
    # and the lines for the days around them (the default), or the lines alone (the reference, kept for the
    # benchmark's side-by-side measure, `python -m bench --only statements`, and as the fallback).
    statements_source: Literal["monthly_balances", "lines"] = "monthly_balances"

    def reminder_step_days(self) -> list[int]:
        return sorted({int(part) for part in self.reminder_steps.split(",")})

    @field_validator("expense_manager_limits")
    @classmethod
    def _limits_parse(cls, value: str) -> str:
        parse_limits(value)  # refuse to start with a limit nobody could have meant
        return value

    def expense_manager_limit(self, currency: str) -> Decimal | None:
        """A project manager's approval limit in `currency`; None: that currency has none (finance decides)."""
        return parse_limits(self.expense_manager_limits).get(currency)


def parse_limits(text: str) -> dict[str, Decimal]:
    """`"EUR:1000,USD:1100"` -> {"EUR": 1000, "USD": 1100}; a ValueError naming the bad entry otherwise."""
    limits: dict[str, Decimal] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        currency, _, amount = entry.partition(":")
        try:
            limits[currency] = check_amount(parse_decimal(amount), currency, field=f"the {currency} limit")
        except ValueError as exc:
            raise ValueError(f"expense manager limit {entry!r}: {exc}") from None
    return limits


@lru_cache
def get_settings() -> ErpSettings:
    return ErpSettings()
