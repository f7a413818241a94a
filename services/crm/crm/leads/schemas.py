import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from crm.companies.api import DOMAIN_PATTERN
from crm.deals.api import BillingInput
from throughline_events.money import check_amount
from throughline_events.types import BusinessDate, MoneyInput

Source = Literal["website", "referral", "partner", "event", "campaign", "api", "cold_outreach", "import", "other"]
# The values of models.LeadStatus and models.AssignmentStrategy as the HTTP API spells them (inline enums in the
# OpenAPI document; tests/crm/test_rules_unit.py keeps them in step).
LeadStatusName = Literal["new", "contacted", "qualified", "disqualified", "converted"]
OpenStatus = Literal["new", "contacted", "qualified", "disqualified"]  # what PATCH may set
StrategyName = Literal["round_robin", "by_source"]


class _LeadFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50, pattern=r"^[0-9+()./ -]{3,50}$")
    title: str | None = Field(None, max_length=100)
    company_name: str | None = Field(None, max_length=200)
    company_domain: str | None = Field(None, max_length=253, pattern=DOMAIN_PATTERN)
    company_size: int | None = Field(None, ge=1, le=10_000_000)
    message: str | None = Field(None, max_length=5000)

    @model_validator(mode="after")
    def _reachable(self) -> "_LeadFields":
        if not self.email and not self.phone:
            raise ValueError("a lead needs an email or a phone number")
        if not (self.first_name or self.last_name or self.company_name):
            raise ValueError("a lead needs a name or a company name")
        return self


class LeadIn(_LeadFields):
    source: Source = "other"
    owner_id: str | None = Field(None, max_length=64, description="Default: the assignment rules decide")
    status: Literal["new", "contacted", "qualified"] = "new"


class LeadCaptureIn(_LeadFields):
    """What a website form may send. No owner or status: assignment rules and the sales team decide those."""

    source: Literal["website", "event", "campaign", "partner", "referral"] = "website"
    email: EmailStr  # required for public capture
    submission_id: str | None = Field(None, min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$",
                                      description="A random id per filled-in form: posting it again creates no "
                                                  "second lead (the form snippet fills it in)")


# An origin as browsers send it: scheme, host, optional port; no path, no trailing slash.
ORIGIN_PATTERN = r"(?i)^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$"
Origin = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=300,
                                          pattern=ORIGIN_PATTERN)]


class CaptureKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100, description="Where the form lives, e.g. 'Website contact form'")
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=20,
                                          description="Origins whose pages may post with this key "
                                                      "(https://www.example.com); none: servers only")
    thank_you_url: str | None = Field(None, max_length=2000, pattern=r"^https?://\S+$",
                                      description="Where a form post is sent after it was received; default: a "
                                                  "short thank-you page")


class CaptureKeyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=100)
    allowed_origins: list[Origin] | None = Field(None, max_length=20)
    thank_you_url: str | None = Field(None, max_length=2000, pattern=r"^https?://\S+$")


class CaptureKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it")
    allowed_origins: list[str]
    thank_you_url: str | None
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None


class CaptureKeyCreated(CaptureKeyOut):
    key: str = Field(description="The key itself: shown this once, only its hash is kept")


class LeadPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50, pattern=r"^[0-9+()./ -]{3,50}$")
    title: str | None = Field(None, max_length=100)
    company_name: str | None = Field(None, max_length=200)
    company_domain: str | None = Field(None, max_length=253, pattern=DOMAIN_PATTERN)
    company_size: int | None = Field(None, ge=1, le=10_000_000)
    message: str | None = Field(None, max_length=5000)
    source: Source | None = None
    owner_id: str | None = Field(None, max_length=64)
    status: OpenStatus | None = None
    disqualified_reason: str | None = Field(None, max_length=1000)


class ScoreReason(BaseModel):
    factor: str
    points: int
    reason: str


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    first_name: str
    last_name: str
    full_name: str
    email: str | None
    phone: str | None
    title: str | None
    company_name: str | None
    company_domain: str | None
    company_size: int | None
    message: str | None
    source: str
    status: str
    owner_id: str | None
    score: int
    score_reasons: list[ScoreReason] = Field(description="Why the lead has its score: one line per rule")
    disqualified_reason: str | None
    company_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    converted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class LeadPage(BaseModel):
    items: list[LeadOut]
    total: int
    limit: int
    offset: int


class CaptureOut(BaseModel):
    id: uuid.UUID
    status: str
    duplicate: bool = Field(False, description="This submission_id was received before: no new lead")


class ConvertDeal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(None, min_length=1, max_length=200, description="Default: the company's name")
    amount: MoneyInput = Field(ge=0, max_digits=16)
    currency: str = Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")
    pipeline_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    expected_close_date: BusinessDate | None = None
    billing: BillingInput | None = None

    @model_validator(mode="after")
    def _money(self) -> "ConvertDeal":
        check_amount(self.amount, self.currency)
        return self


class ConvertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: uuid.UUID | None = Field(None, description="Attach to this existing company instead of creating one")
    create_contact: bool = True
    deal: ConvertDeal | None = Field(None, description="Also open a deal")


class ConvertOut(BaseModel):
    lead: LeadOut
    company_id: uuid.UUID
    contact_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    already_converted: bool = Field(description="True when the lead had been converted before (nothing new created)")


class AssignmentRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    strategy: StrategyName
    source: Source | None = Field(None, description="Required for by_source")
    owner_ids: list[str] = Field(min_length=1, max_length=100)
    position: int = Field(100, ge=0, le=10_000, description="Rules are tried in ascending position")
    active: bool = True

    @model_validator(mode="after")
    def _source(self) -> "AssignmentRuleIn":
        if self.strategy == "by_source" and self.source is None:
            raise ValueError("a by_source rule names its source")
        if any(not o.strip() or len(o) > 64 for o in self.owner_ids):
            raise ValueError("owner_ids are non-empty user ids of at most 64 characters")
        return self


class AssignmentRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    strategy: str
    source: str | None
    owner_ids: list[str]
    position: int
    active: bool
    created_at: datetime

