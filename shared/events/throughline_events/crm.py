"""Payloads of the events the CRM publishes (v1 of each)."""

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from throughline_events.billing import BillingTerms
from throughline_events.envelope import EventPayload, register
from throughline_events.types import CurrencyCode, DecimalString, UtcDateTime


class CompanyRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    id: UUID
    name: str


class ContactRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    id: UUID
    name: str
    email: str | None = None


@register("lead.created", 1, "lead", "lead_id")
class LeadCreatedV1(EventPayload):
    """A lead was captured: a web form, an import, an API call or entered by hand."""

    lead_id: UUID
    name: str
    email: str | None = None
    company_name: str | None = None
    source: str
    owner_id: str | None = None
    created_at: UtcDateTime


@register("lead.converted", 1, "lead", "lead_id")
class LeadConvertedV1(EventPayload):
    """A qualified lead was converted into a company, and possibly a contact and a deal."""

    lead_id: UUID
    company_id: UUID
    contact_id: UUID | None = None
    deal_id: UUID | None = None
    converted_at: UtcDateTime


class _CompanyState(EventPayload):
    company_id: UUID
    name: str
    domain: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    version: int = Field(ge=1, description="Increases with every change; replicas ignore older versions.")
    changed_at: UtcDateTime


@register("company.created", 1, "company", "company_id")
class CompanyCreatedV1(_CompanyState):
    """A company was created in the CRM. Carries its full state: the ERP creates its client replica from it."""


@register("company.updated", 1, "company", "company_id")
class CompanyUpdatedV1(_CompanyState):
    """A company changed, or was deleted (`deleted`). Full state; replicas keep the highest `version`."""

    deleted: bool = False


class _ContactState(EventPayload):
    contact_id: UUID
    company_id: UUID | None = None
    first_name: str
    last_name: str = ""
    email: str | None = None
    phone: str | None = None
    version: int = Field(ge=1)
    changed_at: UtcDateTime


@register("contact.created", 1, "contact", "contact_id")
class ContactCreatedV1(_ContactState):
    """A contact was created in the CRM. Carries its full state."""


@register("contact.updated", 1, "contact", "contact_id")
class ContactUpdatedV1(_ContactState):
    """A contact changed, or was deleted (`deleted`). Full state; replicas keep the highest `version`."""

    deleted: bool = False


class _DealState(EventPayload):
    """What deal.created and deal.updated both say of a deal (not its stage: stage events keep that)."""

    deal_id: UUID
    title: str
    company_id: UUID
    contact_id: UUID | None = None
    amount: DecimalString
    currency: CurrencyCode
    owner_id: str | None = None
    expected_close_date: date | None = None
    billing: BillingTerms | None = Field(
        default=None, description="The billing terms sales set on the open deal, when valid (added in issue 26, "
        "optional): the ERP's cash forecast plans the deal's cash with them before it is won.")


@register("deal.created", 1, "deal", "deal_id")
class DealCreatedV1(_DealState):
    """A deal was opened in a pipeline stage."""

    pipeline_id: UUID
    stage_id: UUID
    created_at: UtcDateTime
    stage_name: str | None = Field(default=None, description="The name of the stage it was opened in (added in "
                                   "issue 23, optional: absent from deals created before).")
    probability: DecimalString | None = Field(default=None, description="That stage's win probability in % (added "
                                              "in issue 23, optional): the ERP weighs tentative bookings by it.")


@register("deal.stage_changed", 1, "deal", "deal_id")
class DealStageChangedV1(EventPayload):
    """A deal moved to another stage of its pipeline."""

    deal_id: UUID
    from_stage_id: UUID | None
    from_stage_name: str | None = None
    to_stage_id: UUID
    to_stage_name: str
    probability: DecimalString
    changed_by: str | None = None
    changed_at: UtcDateTime


@register("deal.updated", 1, "deal", "deal_id")
class DealUpdatedV1(_DealState):
    """An open deal's details changed (title, contact, amount, currency, owner or expected close date; added in
    issue 23). Carries the deal's whole state after the change: a replica takes it when it is newer than what it
    holds, so a late or repeated one changes nothing. Stage moves, wins and losses have their own events."""

    updated_by: str | None = None
    updated_at: UtcDateTime


class WonLine(BaseModel):
    """One line of the quote a won deal was accepted on: what is sold, how much of it, at what price."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    description: str = Field(min_length=1)
    quantity: DecimalString
    unit: str = Field(description="What the quantity counts: `fixed` for a fixed fee, `hours` for hours x rate, ...")
    unit_price: DecimalString
    amount: DecimalString = Field(description="quantity x unit_price, before the quote's discount and tax.")


@register("deal.won", 1, "deal", "deal_id")
class DealWonV1(EventPayload):
    """A deal was won. The ERP turns it into a project with a billing schedule built from `billing`."""

    deal_id: UUID
    title: str
    company: CompanyRef
    contact: ContactRef | None = None
    amount: DecimalString = Field(gt=0)
    currency: CurrencyCode
    owner_id: str | None = None
    won_at: UtcDateTime
    billing: BillingTerms | None = Field(
        default=None, description="Absent: one installment of the full amount on the won date."
    )
    lines: list[WonLine] | None = Field(
        default=None,
        description="The accepted quote's lines (added in issue 25, optional: absent when the deal was won by hand). "
        "The ERP keeps them as the project's budget lines and its invoices carry their descriptions.",
    )


@register("deal.lost", 1, "deal", "deal_id")
class DealLostV1(EventPayload):
    """A deal was lost, with the reason given by sales."""

    deal_id: UUID
    title: str
    company_id: UUID
    amount: DecimalString
    currency: CurrencyCode
    reason: str
    owner_id: str | None = None
    lost_at: UtcDateTime


@register("mail.sent", 1, "mail", "mail_id")
class MailSentV1(EventPayload):
    """The SMTP server accepted a mail from the CRM: written by hand from a deal, contact or company, or a sequence
    step. Carried on `crm.account.events` with the people it was sent to, keyed by the mail's id."""

    mail_id: UUID
    message_id: str = Field(description="The Message-ID header: replies name it in In-Reply-To.")
    subject: str
    to: list[str]
    contact_id: UUID | None = None
    company_id: UUID | None = None
    deal_id: UUID | None = None
    lead_id: UUID | None = None
    template_id: UUID | None = None
    sequence_id: UUID | None = Field(default=None, description="Set for a sequence step's mail.")
    enrolment_id: UUID | None = None
    step_position: int | None = Field(default=None, ge=1)
    sent_by: str | None = Field(default=None, description="The user it was sent for (the sequence's enrolment owner).")
    sent_at: UtcDateTime


@register("mail.reply_received", 1, "mail", "mail_id")
class MailReplyReceivedV1(EventPayload):
    """A mail from a contact or lead arrived at the CRM's inbound address: threaded onto the mail it answers (by
    In-Reply-To / References) or onto its sender; it stopped that person's active sequences."""

    mail_id: UUID
    message_id: str
    reply_to_mail_id: UUID | None = Field(default=None, description="The CRM's mail it answers, when threaded.")
    from_address: str
    subject: str
    contact_id: UUID | None = None
    company_id: UUID | None = None
    deal_id: UUID | None = None
    lead_id: UUID | None = None
    stopped_enrolments: int = Field(default=0, ge=0, description="Active sequence enrolments this reply stopped.")
    received_at: UtcDateTime


@register("quote.sent", 1, "deal", "deal_id")
class QuoteSentV1(EventPayload):
    """A quote revision was mailed to the client with a signed link to its public page (valid until `valid_until`).
    Carried on `crm.deal.events`, keyed by its deal."""

    quote_id: UUID
    deal_id: UUID
    revision: int = Field(ge=1)
    currency: CurrencyCode
    net_total: DecimalString = Field(description="After the discount, before tax: what the deal is won for.")
    tax_total: DecimalString
    total: DecimalString
    valid_until: date
    sent_to: str
    mail_id: UUID
    sent_by: str | None = None
    sent_at: UtcDateTime


@register("quote.accepted", 1, "deal", "deal_id")
class QuoteAcceptedV1(EventPayload):
    """The client accepted the latest revision of a quote on its public page, typing their name. The deal is won in
    the same transaction: `deal.won` follows, carrying the quote's lines and billing terms."""

    quote_id: UUID
    deal_id: UUID
    revision: int = Field(ge=1)
    currency: CurrencyCode
    net_total: DecimalString
    total: DecimalString
    accepted_by_name: str
    accepted_at: UtcDateTime


@register("quote.declined", 1, "deal", "deal_id")
class QuoteDeclinedV1(EventPayload):
    """The client declined a quote on its public page, giving a reason. The deal stays open (sales may send a new
    revision, or lose it)."""

    quote_id: UUID
    deal_id: UUID
    revision: int = Field(ge=1)
    reason: str
    declined_at: UtcDateTime
