import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SendIn(BaseModel):
    """Everything optional: the recipients default to the client's billing e-mail (else its contacts), the subject
    and body to the `invoice` template rendered for this invoice."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    to: list[str] | None = Field(None, min_length=1, max_length=20, description="Recipients' e-mail addresses")
    subject: str | None = Field(None, min_length=1, max_length=300)
    body: str | None = Field(None, min_length=1, max_length=20_000, description="The mail's text (plain text)")


class InvoiceMailOut(BaseModel):
    """One mail of an invoice: the invoice sent, or a reminder; its status is the sender's outcome."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    invoice_id: uuid.UUID
    kind: str
    reminder_id: uuid.UUID | None
    message_id: str
    to_addresses: list[str]
    subject: str
    status: str = Field(description="queued, sent, failed or bounced")
    error: str | None
    sent_by: str | None
    finished_at: datetime | None
    created_at: datetime


class SentOut(InvoiceMailOut):
    public_url: str = Field(description="The signed, expiring link to the client's page the mail carries")


class MailDraftOut(BaseModel):
    to: list[str]
    subject: str
    body: str


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=1000)
    body: str = Field(min_length=1, max_length=20_000)


class TemplateOut(BaseModel):
    key: str = Field(description="`invoice`, or `reminder-<step>`")
    subject: str
    body: str
    is_default: bool
    variables: list[str] = Field(description="What the template may name")
    updated_at: datetime | None
    updated_by: str | None


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str | None = Field(None, max_length=1000, description="Unsaved source; default: the saved template")
    body: str | None = Field(None, max_length=20_000)
    invoice_id: uuid.UUID | None = Field(None, description="Render for this invoice; default: sample data")


class PreviewOut(BaseModel):
    subject: str
    body: str
