"""The settings a service that sends mail adds: mix `MailSettings` into its settings class.

    class ErpSettings(EventDrivenSettings, MailSettings):
        model_config = SettingsConfigDict(env_prefix="ERP_", extra="ignore")

The SMTP server, its account and the public URL are one deployment's: they may be given without the service's
prefix (`SMTP_HOST`, `SMTP_PORT`, `SMTP_USERNAME`, `SMTP_PASSWORD`, `SMTP_STARTTLS`, `SMTP_TLS`, `PUBLIC_BASE_URL`),
the prefixed name winning (`ERP_SMTP_HOST`). The sender address and the link secret are each service's own
(`ERP_SMTP_FROM`, `ERP_LINK_SECRET`). The names are those the ERP's reminder mail already reads, so its
configuration keeps its meaning. `make run` and the tests set `SMTP_HOST`/`SMTP_PORT` to their embedded server.
"""

from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from throughline_platform.mail.links import LinkSigner
from throughline_platform.mail.sender import SmtpConfig
from throughline_platform.settings import ServiceSettingsBase


class MailSettings(ServiceSettingsBase):
    unprefixed: ClassVar[tuple[str, ...]] = ("smtp_host", "smtp_port", "smtp_username", "smtp_password",
                                             "smtp_starttls", "smtp_tls", "public_base_url")

    # None: no server configured; mail waits in the outbox and the sender's readiness says why.
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    # For any server on another machine: STARTTLS on a plain connection (port 587), or TLS from the start (465).
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    # The From of this service's mail, and the domain of its Message-IDs.
    smtp_from: str = "Throughline <no-reply@throughline.local>"
    # The HMAC key of this service's public links (at least 32 bytes); `link_secret_previous` still verifies
    # while a new secret is rolled out.
    link_secret: str = ""
    link_secret_previous: str = ""
    # Where people outside reach the web app: public links start with it.
    public_base_url: str = "http://127.0.0.1:8000"

    @model_validator(mode="after")
    def _one_kind_of_tls(self) -> Self:
        if self.smtp_starttls and self.smtp_tls:
            raise ValueError("SMTP_STARTTLS and SMTP_TLS exclude each other: STARTTLS upgrades a plain connection, "
                             "SMTP_TLS starts with TLS")
        return self

    def smtp(self) -> SmtpConfig:
        security: Literal["none", "starttls", "tls"] = ("starttls" if self.smtp_starttls
                                                        else "tls" if self.smtp_tls else "none")
        return SmtpConfig(host=self.smtp_host, port=self.smtp_port, username=self.smtp_username or "",
                          password=self.smtp_password or "", security=security, timeout=self.smtp_timeout_seconds)

    def link_signer(self) -> LinkSigner:
        if not self.link_secret:
            raise RuntimeError("the service's LINK_SECRET (with its prefix, e.g. ERP_LINK_SECRET) must be set: "
                               "at least 32 random bytes")
        return LinkSigner(self.link_secret, previous=[self.link_secret_previous] if self.link_secret_previous else [])
