"""The settings base every service's settings extend (pydantic-settings, one environment prefix per service).

A subclass sets its prefix (`CRM_`, `ERP_`, `GATEWAY_`) in `model_config` and may name, in `unprefixed`, the
settings that one deployment shares between services and that may therefore also come without the prefix
(`KAFKA_BOOTSTRAP_SERVERS`, `JWT_PUBLIC_KEY`). The prefixed variable wins when both are set. The names of every
class in the hierarchy count, so a mixin of settings (`throughline_platform.mail.settings.MailSettings`) brings its
own shared names along. `METRICS_TOKEN` is shared by every service, whatever its subclass says.
"""

from typing import Any, ClassVar

from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict


class _UnprefixedEnvironment(EnvSettingsSource):
    """The environment without the service's prefix, for the few settings a deployment shares."""

    def __init__(self, settings_cls: type[BaseSettings], names: tuple[str, ...]) -> None:
        super().__init__(settings_cls, env_prefix="")
        self._names = names

    def __call__(self) -> dict[str, Any]:
        return {name: value for name, value in super().__call__().items() if name in self._names}


# Settings every service shares with the whole deployment, whatever its `unprefixed` says.
_SHARED: tuple[str, ...] = ("metrics_token",)


class ServiceSettingsBase(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # Settings that may also be given without the service's prefix (field names).
    unprefixed: ClassVar[tuple[str, ...]] = ()

    database_url: str
    # Database connections per process, a fixed pool (docs/messaging.md).
    db_pool_size: int = 10
    log_level: str = "INFO"
    # Largest request body accepted (413 beyond). 5 MiB: the largest legitimate body is a CSV import (5 MB at most).
    max_body_bytes: int = 5 * 1024 * 1024
    # Largest file upload (a multipart/form-data body: a bank statement, a receipt, a CSV import, a logo): a month's
    # CAMT.053 of 10,000 credits is ~6.5 MB, so uploads get their own, larger limit (docs/security.md).
    max_upload_bytes: int = 32 * 1024 * 1024
    # Bearer token that opens /metrics (one for the whole deployment: `METRICS_TOKEN`); empty: /metrics is served
    # only to clients on this machine (docs/security.md).
    metrics_token: str = ""

    @classmethod
    def all_unprefixed(cls) -> tuple[str, ...]:
        """`unprefixed` of this class and every base, each name once."""
        names = (name for klass in reversed(cls.__mro__) for name in vars(klass).get("unprefixed", ()))
        return tuple(dict.fromkeys(names))

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: arguments, then the prefixed environment, then the shared unprefixed names.
        return (init_settings, env_settings, _UnprefixedEnvironment(settings_cls, (*cls.all_unprefixed(), *_SHARED)),
                dotenv_settings, file_secret_settings)


class EdgeSettings(ServiceSettingsBase):
    """Only the HTTP edge settings of a service (`<PREFIX>_MAX_BODY_BYTES`, `METRICS_TOKEN`), for the app factory,
    which is given a service's name rather than its settings: `EdgeSettings.of("crm")`."""

    database_url: str = ""

    @classmethod
    def of(cls, service: str) -> "EdgeSettings":
        return cls(_env_prefix=f"{service.upper()}_")
