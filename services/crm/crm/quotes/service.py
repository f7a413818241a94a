"""Quote rules: lines priced from the catalogue, totals in the deal's currency, revisions (a new one supersedes the
older ones: only the latest can be accepted), sending (a mail through the CRM's mail outbox with a signed link that
expires with the quote), and the client's answer on the public page: acceptance wins the deal in the same
transaction, with the quote's amount, billing terms and lines (quote.accepted, then deal.won).

The tax is a snapshot of one of the ERP's tax rates, chosen in the web app from `GET /api/erp/tax-rates` (the CRM
never imports the ERP, and does not call it: docs/decisions.md D25-Q1).
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from markupsafe import escape
from pydantic import TypeAdapter, ValidationError

from crm.companies.api import CompanyRepository, ContactRepository
from crm.db import utcnow
from crm.deals.api import Deal, DealRepository, DealStatus, win_on_quote
from crm.mail import api as mail
from crm.quotes.models import UNIT_OF, CatalogueItem, PriceKind, Quote, QuoteLine, QuoteStatus
from crm.quotes.repository import CatalogueRepository, QuoteRepository
from crm.quotes.schemas import CatalogueItemIn, CatalogueItemPatch, LineIn, QuoteIn, QuotePatch, SendIn, TaxIn
from crm.settings import CrmSettings
from throughline_events.billing import BillingTerms, Retainer
from throughline_events.crm import QuoteAcceptedV1, QuoteDeclinedV1, QuoteSentV1, WonLine
from throughline_events.money import ZERO, check_amount, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.mail.links import LinkForbidden, verified
from throughline_platform.mail.templates import RenderedMail
from throughline_platform.problems import Conflict, NotFound, ProblemError, Unprocessable

# The purpose of quote links (inside their signature: an unsubscribe link opens no quote, and the reverse).
QUOTE_LINK = "quote"
_HUNDRED = Decimal(100)
_billing_terms: TypeAdapter[Any] = TypeAdapter(BillingTerms)


class QuoteSuperseded(ProblemError):
    status, type_slug, title = 409, "quote-superseded", "A newer revision of this quote exists"


class QuoteAnswered(ProblemError):
    status, type_slug, title = 409, "quote-answered", "This quote has been answered already"


# --- the catalogue -------------------------------------------------------------------------------------------


async def create_item(uow: UnitOfWork, data: CatalogueItemIn) -> CatalogueItem:
    items = CatalogueRepository(uow.session)
    if await items.by_name(data.name) is not None:
        raise Conflict(f"A catalogue service named {data.name!r} exists already.", type_slug="duplicate-service")
    now = utcnow()
    item = CatalogueItem(id=uuid.uuid4(), name=data.name, description=data.description, kind=data.kind,
                         unit_price=data.unit_price, currency=data.currency, active=True, created_at=now,
                         updated_at=now)
    items.add(item)
    await uow.commit()
    return item


async def get_item(uow: UnitOfWork, item_id: uuid.UUID) -> CatalogueItem:
    item = await CatalogueRepository(uow.session).get(item_id)
    if item is None:
        raise NotFound(f"Catalogue service {item_id} does not exist.")
    return item


async def update_item(uow: UnitOfWork, item_id: uuid.UUID, patch: CatalogueItemPatch) -> CatalogueItem:
    """Quotes copy a service's name and price into their lines: changing it changes no quote."""
    item = await get_item(uow, item_id)
    changes = patch.model_dump(exclude_unset=True)
    for required in ("name", "unit_price", "active"):
        if required in changes and changes[required] is None:
            raise Unprocessable(f"{required}: cannot be cleared.")
    if "name" in changes and changes["name"].lower() != item.name.lower() \
            and await CatalogueRepository(uow.session).by_name(changes["name"]) is not None:
        raise Conflict(f"A catalogue service named {changes['name']!r} exists already.", type_slug="duplicate-service")
    if "unit_price" in changes:
        _money(changes["unit_price"], item.currency, "unit_price")
    for field, value in changes.items():
        setattr(item, field, value)
    item.updated_at = utcnow()
    await uow.commit()
    return item


def _money(amount: Decimal, currency: str, field: str) -> Decimal:
    try:
        return check_amount(amount, currency, field=field)
    except ValueError as exc:
        raise Unprocessable(f"{field}: {exc}") from None


# --- pricing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax_total: Decimal
    total: Decimal


def totals(lines: list[QuoteLine], discount_percent: Decimal, tax_percent: Decimal, currency: str) -> Totals:
    """Lines (each rounded to the currency's minor unit), less the discount, plus the tax on what is left."""
    subtotal = sum((line.amount for line in lines), ZERO)
    discount = round_money(subtotal * discount_percent / _HUNDRED, currency)
    net = subtotal - discount
    tax = round_money(net * tax_percent / _HUNDRED, currency)
    return Totals(subtotal, discount, net, tax, net + tax)


async def _lines(uow: UnitOfWork, data: list[LineIn], currency: str) -> list[QuoteLine]:
    catalogue = CatalogueRepository(uow.session)
    lines = []
    for position, given in enumerate(data, start=1):
        where = f"lines[{position - 1}]"
        item = None
        if given.catalogue_item_id is not None:
            item = await catalogue.get(given.catalogue_item_id)
            if item is None:
                raise Unprocessable(f"{where}.catalogue_item_id: service {given.catalogue_item_id} does not exist.")
            if not item.active:
                raise Unprocessable(f"{where}: the service {item.name!r} is archived.", type_slug="service-archived")
            if item.currency != currency:
                raise Unprocessable(f"{where}: the service {item.name!r} is priced in {item.currency}, the deal in "
                                    f"{currency}.", type_slug="currency-mismatch")
        description = given.description or (item.name if item else None)
        kind = given.kind or (item.kind if item else None)
        unit_price = given.unit_price if given.unit_price is not None else (item.unit_price if item else None)
        if description is None or kind is None or unit_price is None:
            raise Unprocessable(f"{where}: a line without a catalogue service needs a description, a kind and a "
                                "unit_price.")
        if given.unit_price is None:
            unit_price = round_money(unit_price, currency)  # the catalogue's price, kept to 4 places
        unit_price = _money(unit_price, currency, f"{where}.unit_price")
        amount = round_money(given.quantity * unit_price, currency)
        lines.append(QuoteLine(id=uuid.uuid4(), position=position, catalogue_item_id=item.id if item else None,
                               kind=kind, description=description, quantity=given.quantity,
                               unit=UNIT_OF[PriceKind(kind)], unit_price=unit_price, amount=amount))
    return lines


def _apply_tax(quote: Quote, tax: TaxIn | None) -> None:
    quote.tax_rate_id = tax.rate_id if tax else None
    quote.tax_name = tax.name if tax else None
    quote.tax_percent = tax.percent if tax else ZERO


def _price(quote: Quote) -> None:
    t = totals(quote.lines, quote.discount_percent, quote.tax_percent, quote.currency)
    quote.subtotal, quote.discount_total, quote.net_total, quote.tax_total, quote.total = (
        t.subtotal, t.discount_total, t.net_total, t.tax_total, t.total)


# --- quotes --------------------------------------------------------------------------------------------------


async def _deal(uow: UnitOfWork, deal_id: uuid.UUID, *, for_update: bool = False) -> Deal:
    deal = await DealRepository(uow.session).get(deal_id, for_update=for_update)
    if deal is None:
        raise NotFound(f"Deal {deal_id} does not exist.")
    return deal


def _require_open(deal: Deal) -> None:
    if deal.status != DealStatus.OPEN:
        raise Conflict(f"The deal is {deal.status}: its quotes can no longer change.", type_slug="deal-closed",
                       status_now=deal.status)


async def list_quotes(uow: UnitOfWork, deal_id: uuid.UUID) -> list[Quote]:
    await _deal(uow, deal_id)
    return await QuoteRepository(uow.session).of_deal(deal_id)


async def create_quote(uow: UnitOfWork, deal_id: uuid.UUID, data: QuoteIn, principal: Principal) -> Quote:
    """A new revision on the deal (a draft); every older draft or sent revision is superseded by it."""
    deal = await _deal(uow, deal_id, for_update=True)  # one revision number at a time per deal
    _require_open(deal)
    quotes = QuoteRepository(uow.session)
    revision = await quotes.latest_revision(deal.id) + 1
    now = utcnow()
    quote = Quote(id=uuid.uuid4(), deal_id=deal.id, revision=revision, status=QuoteStatus.DRAFT,
                  title=data.title or deal.title, currency=deal.currency, discount_percent=data.discount_percent,
                  valid_until=data.valid_until,
                  billing_terms=data.billing.model_dump(mode="json") if data.billing else deal.billing_terms,
                  notes=data.notes, created_by=principal.user_id, created_at=now, updated_at=now)
    _apply_tax(quote, data.tax)
    quote.lines = await _lines(uow, data.lines, deal.currency)
    _price(quote)
    await quotes.supersede_older(deal.id, revision)
    quotes.add(quote)
    await uow.commit()
    return quote


async def get_quote(uow: UnitOfWork, quote_id: uuid.UUID, *, for_update: bool = False) -> Quote:
    quote = await QuoteRepository(uow.session).get(quote_id, for_update=for_update)
    if quote is None:
        raise NotFound(f"Quote {quote_id} does not exist.")
    return quote


async def is_latest(uow: UnitOfWork, quote: Quote) -> bool:
    return await QuoteRepository(uow.session).latest_revision(quote.deal_id) == quote.revision


async def update_quote(uow: UnitOfWork, quote_id: uuid.UUID, patch: QuotePatch) -> Quote:
    """Only a draft changes; a sent quote is changed by a new revision (the client may have read it)."""
    quote = await get_quote(uow, quote_id, for_update=True)
    if quote.status != QuoteStatus.DRAFT:
        raise Conflict(f"The quote is {quote.status}: only a draft changes. Create a new revision instead.",
                       type_slug="quote-not-draft", status_now=quote.status)
    _require_open(await _deal(uow, quote.deal_id))
    changes = patch.model_dump(exclude_unset=True)
    for required in ("title", "lines", "discount_percent", "valid_until"):
        if required in changes and changes[required] is None:
            raise Unprocessable(f"{required}: cannot be cleared.")
    if patch.lines is not None:
        quote.lines = await _lines(uow, patch.lines, quote.currency)
    if "tax" in changes:
        _apply_tax(quote, patch.tax)
    if "billing" in changes:
        quote.billing_terms = patch.billing.model_dump(mode="json") if patch.billing else None
    for field in ("title", "discount_percent", "valid_until", "notes"):
        if field in changes:
            setattr(quote, field, changes[field])
    _price(quote)
    quote.updated_at = utcnow()
    await uow.commit()
    return quote


def _terms(quote: Quote) -> Any:
    """The quote's billing terms, checked as a win will check them (acceptance must not fail on them)."""
    if quote.billing_terms is None:
        raise Unprocessable("Billing terms are needed before a quote is sent (the client's acceptance wins the "
                            "deal on them): set them on the quote or the deal.", type_slug="billing-terms-required")
    try:
        terms = _billing_terms.validate_python(quote.billing_terms)
    except ValidationError as exc:
        raise Unprocessable(f"The quote's billing terms are invalid: {exc.errors()[0]['msg']}",
                            type_slug="invalid-billing-terms") from None
    if isinstance(terms, Retainer) and terms.amount * terms.count != quote.net_total:
        raise Unprocessable(f"The retainer bills {terms.count} x {terms.amount} {quote.currency}, but the quote's "
                            f"net total is {round_money(quote.net_total, quote.currency)} {quote.currency}; make "
                            "them equal.", type_slug="retainer-total-mismatch")
    return terms


def link_expiry(quote: Quote) -> datetime:
    """A quote's link works to the end of its validity date (UTC)."""
    return datetime.combine(quote.valid_until + timedelta(days=1), time(0), tzinfo=UTC)


def public_url(settings: CrmSettings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/crm/public-quotes/{token}"


@dataclass(frozen=True)
class Sent:
    quote: Quote
    mail_id: uuid.UUID
    link_expires_at: datetime


async def send_quote(uow: UnitOfWork, quote_id: uuid.UUID, data: SendIn, principal: Principal,
                     settings: CrmSettings) -> Sent:
    """Mail the latest revision with a signed link to its public page (sent again: a new mail, a new link)."""
    session = uow.session
    quote = await get_quote(uow, quote_id, for_update=True)
    deal = await _deal(uow, quote.deal_id, for_update=True)
    _require_open(deal)
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
        raise Conflict(f"The quote is {quote.status}: it cannot be sent.", type_slug="quote-not-sendable",
                       status_now=quote.status)
    if quote.net_total <= ZERO:
        raise Unprocessable("A quote is sent for an amount greater than zero.", type_slug="quote-empty")
    now = utcnow()
    expires = link_expiry(quote)
    if expires <= now:
        raise Unprocessable(f"valid_until: the quote was valid until {quote.valid_until}; change it first.",
                            type_slug="quote-expired")
    _terms(quote)
    contact = await ContactRepository(session).get(deal.contact_id) if deal.contact_id else None
    to = data.to or (contact.email if contact else None)
    if not to:
        why = "the deal's contact has no email address" if contact else "the deal names no contact"
        raise Unprocessable(f"to: {why}; give an address.", type_slug="no-recipient")
    company = await CompanyRepository(session).get(deal.company_id)
    profile = await mail.SenderRepository(session).remember(principal.user_id, principal.email or "", now)
    token = settings.link_signer().sign(QUOTE_LINK, quote.id, expires)
    url = public_url(settings, token)
    rendered = _mail(quote, company.name if company else "", contact.first_name if contact and to == contact.email
                     else None, profile.name, url, data.message)
    draft = mail.Draft(to_address=to, to_name=contact.full_name if contact and to == contact.email else "",
                       rendered=rendered, links=mail.Links(contact_id=contact.id if contact else None,
                                                           company_id=deal.company_id, deal_id=deal.id),
                       sender_name=profile.name, sent_by=principal.user_id)
    await mail.stage(session, [draft], settings, now)
    quote.status, quote.sent_at, quote.sent_to, quote.mail_id, quote.updated_at = (
        QuoteStatus.SENT, now, to, draft.mail_id, now)
    deal.last_activity_at = now
    deal.record(QuoteSentV1(
        quote_id=quote.id, deal_id=deal.id, revision=quote.revision, currency=quote.currency,
        net_total=round_money(quote.net_total, quote.currency), tax_total=round_money(quote.tax_total, quote.currency),
        total=round_money(quote.total, quote.currency), valid_until=quote.valid_until, sent_to=to,
        mail_id=draft.mail_id, sent_by=principal.user_id, sent_at=now))
    await uow.commit()
    return Sent(quote, draft.mail_id, expires)


def _mail(quote: Quote, company: str, first_name: str | None, sender: str, url: str,
          message: str | None) -> RenderedMail:
    total = f"{round_money(quote.total, quote.currency)} {quote.currency}"
    greeting = f"Hello {first_name}," if first_name else "Hello,"
    intro = message or f"Here is our quote for {quote.title}."
    text = (f"{greeting}\n\n{intro}\n\nQuote: {quote.title} (revision {quote.revision})\nTotal: {total}\n"
            f"Valid until: {quote.valid_until.isoformat()}\n\nRead it, download the PDF, and accept or decline it "
            f"here:\n{url}\n\n{sender}\n")
    html = (f"<p>{escape(greeting)}</p><p>{escape(intro)}</p><p><strong>{escape(quote.title)}</strong> (revision "
            f"{quote.revision})<br>Total: {escape(total)}<br>Valid until: {quote.valid_until.isoformat()}</p>"
            f"<p><a href=\"{escape(url)}\">Read the quote, and accept or decline it</a></p><p>{escape(sender)}</p>")
    subject = f"Quote: {quote.title}" + (f" for {company}" if company else "")
    return RenderedMail(subject=subject, text=text, html=html)


# --- the client's answer (the public page) ------------------------------------------------------------------


async def quote_of_link(uow: UnitOfWork, token: str, settings: CrmSettings, *, for_update: bool = False) -> Quote:
    """The quote a genuine, unexpired link was sent for: 403 for anything forged, altered or made for another
    purpose, 410 once expired."""
    claims = verified(settings.link_signer(), token, QUOTE_LINK, invalid="This quote link is not valid.",
                      expired="This quote's link has expired: ask us for a new one.")
    quote = await QuoteRepository(uow.session).get(claims.subject, for_update=for_update)
    if quote is None:
        raise LinkForbidden("This quote link is not valid.")
    return quote


async def _answerable(uow: UnitOfWork, token: str, settings: CrmSettings) -> tuple[Quote, Deal]:
    quote = await quote_of_link(uow, token, settings, for_update=True)
    deal = await _deal(uow, quote.deal_id, for_update=True)
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED):
        raise QuoteAnswered(f"This quote was {quote.status} already. Nothing was changed.")
    if quote.status == QuoteStatus.SUPERSEDED or not await is_latest(uow, quote):
        raise QuoteSuperseded("A newer revision of this quote has been made: only the latest can be accepted. "
                              "Nothing was changed.")
    if quote.status != QuoteStatus.SENT:
        raise LinkForbidden("This quote link is not valid.")
    if deal.status != DealStatus.OPEN:
        raise Conflict(f"The deal this quote is for is {deal.status}. Nothing was changed.", type_slug="deal-closed")
    return quote, deal


async def accept(uow: UnitOfWork, token: str, name: str, address: str | None, settings: CrmSettings) -> Quote:
    """The client accepts (typed name, time and address recorded): the deal is won on the quote, in this
    transaction (quote.accepted, then deal.won with the quote's lines and billing terms)."""
    quote, deal = await _answerable(uow, token, settings)
    terms = _terms(quote)
    now = utcnow()
    quote.status, quote.accepted_at, quote.accepted_name, quote.accepted_ip, quote.updated_at = (
        QuoteStatus.ACCEPTED, now, name, (address or "")[:64] or None, now)
    deal.record(QuoteAcceptedV1(
        quote_id=quote.id, deal_id=deal.id, revision=quote.revision, currency=quote.currency,
        net_total=round_money(quote.net_total, quote.currency), total=round_money(quote.total, quote.currency),
        accepted_by_name=name, accepted_at=now))
    lines = [WonLine(description=line.description, quantity=line.quantity.normalize(), unit=line.unit,
                     unit_price=round_money(line.unit_price, quote.currency),
                     amount=round_money(line.amount, quote.currency)) for line in quote.lines]
    client = Principal(user_id=f"quote:{quote.id}", email=quote.sent_to or "", role="client", token="")
    await win_on_quote(uow, deal, amount=quote.net_total, currency=quote.currency, billing=terms, lines=lines,
                       principal=client)  # commits
    return quote


async def decline(uow: UnitOfWork, token: str, reason: str, settings: CrmSettings) -> Quote:
    quote, deal = await _answerable(uow, token, settings)
    now = utcnow()
    quote.status, quote.declined_at, quote.decline_reason, quote.updated_at = (
        QuoteStatus.DECLINED, now, reason, now)
    deal.last_activity_at = now
    deal.record(QuoteDeclinedV1(quote_id=quote.id, deal_id=deal.id, revision=quote.revision, reason=reason,
                                declined_at=now))
    await uow.commit()
    return quote


@dataclass(frozen=True)
class PageData:
    quote: Quote
    latest: bool
    company: str
    deal_title: str


async def page_data(uow: UnitOfWork, quote: Quote) -> PageData:
    deal = await _deal(uow, quote.deal_id)
    company = await CompanyRepository(uow.session).get(deal.company_id)
    return PageData(quote, await is_latest(uow, quote), company.name if company else "", deal.title)
