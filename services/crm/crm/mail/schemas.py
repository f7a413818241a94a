import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

# The values of models.ConsentStatus / Direction / MailState as the HTTP API spells them
# (tests/crm/test_rules_unit.py keeps them in step).
ConsentName = Literal["given", "withdrawn"]
DirectionName = Literal["outbound", "inbound"]
MailStateName = Literal["queued", "sent", "bounced", "failed", "received"]

SUBJECT_MAX = 998  # RFC 5322's line length: a subject longer than this is not one header line
BODY_MAX = 200_000


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    subject: str = Field(min_length=1, max_length=SUBJECT_MAX, description="Jinja2; not HTML")
    text: str = Field(min_length=1, max_length=BODY_MAX, description="Jinja2; the plain-text part")
    html: str | None = Field(None, max_length=BODY_MAX, description="Jinja2, autoescaped; the HTML part")


class TemplatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100)
    subject: str | None = Field(None, min_length=1, max_length=SUBJECT_MAX)
    text: str | None = Field(None, min_length=1, max_length=BODY_MAX)
    html: str | None = Field(None, max_length=BODY_MAX, description="null removes the HTML part")


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    subject: str
    text: str = Field(validation_alias="text_body")
    html: str | None = Field(validation_alias="html_body")
    version: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class Records(BaseModel):
    """What a mail is about: its template variables come from these records."""

    model_config = ConfigDict(extra="forbid")
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None


class PreviewIn(Records):
    template_id: uuid.UUID | None = Field(None, description="A saved template; or give subject, text (and html)")
    subject: str | None = Field(None, max_length=SUBJECT_MAX)
    text: str | None = Field(None, max_length=BODY_MAX)
    html: str | None = Field(None, max_length=BODY_MAX)

    @model_validator(mode="after")
    def _one_source(self) -> "PreviewIn":
        if (self.template_id is None) == (self.subject is None or self.text is None):
            raise ValueError("give a template_id, or a subject and a text (and an html), not both")
        return self


class RenderedOut(BaseModel):
    subject: str
    text: str
    html: str | None
    example: bool = Field(description="Rendered with example values (no record given)")


class ComposeIn(Records):
    """A mail to one person: a contact (its address) or an address given here, with a template or free text."""

    to: EmailStr | None = Field(None, description="Default: the contact's (or lead's) address")
    template_id: uuid.UUID | None = None
    subject: str | None = Field(None, min_length=1, max_length=SUBJECT_MAX, description="Free text (Jinja2 too)")
    text: str | None = Field(None, min_length=1, max_length=BODY_MAX)
    html: str | None = Field(None, max_length=BODY_MAX)
    reply_to_mail_id: uuid.UUID | None = Field(None, description="Answer this mail (threads by In-Reply-To)")

    @model_validator(mode="after")
    def _one_source(self) -> "ComposeIn":
        if (self.template_id is None) == (self.subject is None or self.text is None):
            raise ValueError("give a template_id, or a subject and a text (and an html), not both")
        if not (self.contact_id or self.company_id or self.deal_id or self.lead_id):
            raise ValueError("name what the mail is about: a contact, company, deal or lead")
        return self


class MailOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    direction: str
    status: str
    message_id: str
    in_reply_to: str | None
    reply_to_mail_id: uuid.UUID | None
    subject: str
    from_address: str
    to_addresses: list[str]
    text_body: str | None
    html_body: str | None
    attachments: list[dict[str, Any]]
    contact_id: uuid.UUID | None
    company_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    template_id: uuid.UUID | None
    enrolment_id: uuid.UUID | None
    sequence_id: uuid.UUID | None
    step_position: int | None
    sent_by: str | None
    error: str | None
    occurred_at: datetime
    created_at: datetime


class MailPage(BaseModel):
    items: list[MailOut]
    total: int
    limit: int
    offset: int


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: ConsentName
    source: str = Field(min_length=1, max_length=150, description="Where it came from: 'signed up at the fair'")


class ConsentOut(BaseModel):
    email: str | None = Field(description="The address the consent is about (the contact's)")
    status: str = Field(description="given, withdrawn, or unknown (nothing recorded)")
    source: str | None
    changed_at: datetime | None
    changed_by: str | None


class SenderIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200, description="The From's name of your mail ({{ owner.name }})")


class SenderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    user_id: str
    name: str
    email: str


class InboundAttachment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    filename: str = Field("", max_length=255)
    content_type: str = Field("application/octet-stream", max_length=255)
    content: str | None = Field(None, description="base64; listed (name, type, size, sha256), not kept")
    size: int | None = Field(None, ge=0)


class InboundMailIn(BaseModel):
    """What inbound-parse services post (JSON here; multipart/form-data with the same field names also works, files
    being the attachments)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    sender: str = Field(min_length=3, max_length=998, description="The From: 'Ada <ada@example.com>'")
    recipients: list[str] = Field(default_factory=list, max_length=100)
    subject: str = Field("", max_length=SUBJECT_MAX)
    text: str | None = Field(None, max_length=2_000_000)
    html: str | None = Field(None, max_length=2_000_000)
    message_id: str | None = Field(None, alias="message-id", max_length=998)
    in_reply_to: str | None = Field(None, alias="in-reply-to", max_length=998)
    references: str | None = Field(None, max_length=20_000)
    attachments: list[InboundAttachment] = Field(default_factory=list, max_length=100)


class InboundOut(BaseModel):
    id: uuid.UUID
    duplicate: bool = Field(description="Already received (same Message-ID): nothing new stored")
    contact_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    matched_by: str | None = Field(description="message_id (a reply to our mail), sender (its address), or null")
    stopped_enrolments: int
