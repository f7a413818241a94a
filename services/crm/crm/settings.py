"""CRM settings from the environment (prefix CRM_; the base class says which settings
may also come without it)."""

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from throughline_messaging.settings import EventDrivenSettings


class CrmSettings(EventDrivenSettings):
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

    def capture_keys(self) -> list[str]:
        return [key.strip() for key in self.lead_capture_keys.split(",") if key.strip()]


@lru_cache
def get_settings() -> CrmSettings:
    return CrmSettings()
