"""The settings a service that sends mail adds: mix `MailSettings` into its settings class.

    class ErpSettings(EventDrivenSettings, MailSettings):
        model_config = SettingsConfigDict(env_prefix="ERP_", extra="ignore")

The SMTP server, its account and the public URL are one deployment's: they may be given without the service's
prefix (`SMTP_HOST`, `SMTP_PORT`, `SMTP_USERNAME`, `SMTP_PASSWORD`, `SMTP_SECURITY`, `PUBLIC_BASE_URL`), the prefixed
name winning (`ERP_SMTP_HOST`). The sender address and the link secret are each service's own (`ERP_MAIL_FROM`,
`ERP_LINK_SECRET`). The defaults suit `make run`, whose embedded SMTP server listens on 127.0.0.1:8025.
"""

from typing import ClassVar, Literal

from pydantic import Field

from throughline_platform.mail.links import LinkSigner
from throughline_platform.mail.sender import SmtpConfig
from throughline_platform.settings import ServiceSettingsBase


class MailSettings(ServiceSettingsBase):
    unprefixed: ClassVar[tuple[str, ...]] = ("smtp_host", "smtp_port", "smtp_username", "smtp_password",
                                             "smtp_security", "public_base_url")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(8025, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    # "starttls" (port 587) or "tls" (port 465) for any server on another machine; "none" only on this one.
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    # The From of this service's mail, and the domain of its Message-IDs.
    mail_from: str = "Throughline <no-reply@throughline.localhost>"
    # The HMAC key of this service's public links (at least 32 bytes); `link_secret_previous` still verifies
    # while a new secret is rolled out.
    link_secret: str = ""
    link_secret_previous: str = ""
    # Where people outside reach the web app: public links start with it.
    public_base_url: str = "http://127.0.0.1:8000"

    def smtp(self) -> SmtpConfig:
        return SmtpConfig(host=self.smtp_host, port=self.smtp_port, username=self.smtp_username,
                          password=self.smtp_password, security=self.smtp_security,
                          timeout=self.smtp_timeout_seconds)

    def link_signer(self) -> LinkSigner:
        if not self.link_secret:
            raise RuntimeError("the service's LINK_SECRET (with its prefix, e.g. ERP_LINK_SECRET) must be set: "
                               "at least 32 random bytes")
        return LinkSigner(self.link_secret, previous=[self.link_secret_previous] if self.link_secret_previous else [])
