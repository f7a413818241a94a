"""CRM settings from the environment (prefix CRM_; the base class says which settings
may also come without it)."""

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from crm.zones import check_time_zone
from throughline_messaging.settings import EventDrivenSettings
from throughline_platform.mail.settings import MailSettings


class CrmSettings(EventDrivenSettings, MailSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm"
    consumer_group: str = "crm"
    # Public lead capture (website forms): accepted X-API-Key values, comma-separated, and the rate per key.
    lead_capture_keys: str = ""
    lead_capture_per_minute: int = 30
    # A deal with no activity for this many days is flagged as idle.
    idle_deal_days: int = 14
    # How often the scheduler evaluates time-based automation rules.
    automation_interval_seconds: float = 60.0
    # Largest CSV accepted by an import.
    import_max_bytes: int = 5_000_000

    # --- mail (docs/crm-communications.md) ---
    # Where replies should go (Reply-To of every CRM mail): an address whose mail the inbound-parse service posts
    # to POST /api/crm/inbound-mail. Unset: no Reply-To, replies go to the From (smtp_from).
    mail_reply_to: str | None = None
    # Mail senders (each one SMTP and one PostgreSQL connection) in a scheduler process.
    mail_senders: int = Field(1, ge=1, le=8)
    # The shared secret of POST /api/crm/inbound-mail (X-Inbound-Secret, or the password of basic auth). Empty:
    # the endpoint refuses everything.
    inbound_secret: str = ""
    # Largest inbound mail accepted (the whole request, attachments included).
    inbound_max_bytes: int = Field(10_000_000, ge=1_000)
    # Whether a mail from an unknown address becomes a lead (source "email").
    inbound_creates_leads: bool = False
    # --- sequences ---
    # How often the scheduler looks for due sequence steps when nothing wakes it (enrolling does, at once).
    sequence_interval_seconds: float = Field(15.0, gt=0)
    # Due steps handled in one transaction.
    sequence_batch_size: int = Field(200, ge=1, le=5000)
    # Sequence mails one sender (the enrolment's owner) may send per day (UTC).
    sequence_daily_limit_per_sender: int = Field(200, ge=1)
    # Business days need a country (its public holidays, from the holidays package) and a time zone: the contact's,
    # else its company's, else these.
    default_country: str = Field("", pattern=r"^([A-Z]{2})?$")
    default_time_zone: str = "UTC"

    @field_validator("default_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_time_zone(value)

    def capture_keys(self) -> list[str]:
        return [key.strip() for key in self.lead_capture_keys.split(",") if key.strip()]


@lru_cache
def get_settings() -> CrmSettings:
    return CrmSettings()
