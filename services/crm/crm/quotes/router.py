import uuid
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from crm.policy import QuoteWriter, Reader
from crm.quotes import pages, service
from crm.quotes.models import Quote
from crm.quotes.repository import CatalogueRepository
from crm.quotes.schemas import (
    CatalogueItemIn,
    CatalogueItemOut,
    CatalogueItemPatch,
    QuoteIn,
    QuoteOut,
    QuotePatch,
    SendIn,
    SentOut,
)
from crm.settings import get_settings
from throughline_messaging.deps import ReadUoW, UoW
from throughline_messaging.uow import UnitOfWork
from throughline_platform.openapi import problem_responses
from throughline_platform.problems import ProblemError

router = APIRouter(prefix="/api/crm", tags=["quotes"])
# Reached without a user token, through the gateway's public routes: the signed quote link is the credential.
public_router = APIRouter(prefix="/api/crm/public-quotes", tags=["quotes"])

_DEAL_CLOSED = "The deal is won or lost"


async def _out(uow: UnitOfWork, quote: Quote) -> QuoteOut:
    out = QuoteOut.model_validate(quote)
    out.latest = await service.is_latest(uow, quote)
    return out


# --- the catalogue -----------------------------------------------------------------------------------------


@router.get("/quote-catalogue", response_model=list[CatalogueItemOut],
            summary="The services and rate cards quotes are made of, by name")
async def list_catalogue(uow: ReadUoW, principal: Reader, active: bool | None = None) -> list[CatalogueItemOut]:
    return [CatalogueItemOut.model_validate(i) for i in await CatalogueRepository(uow.session).all(active)]


@router.post("/quote-catalogue", status_code=201, response_model=CatalogueItemOut,
             summary="Add a service: a fixed fee or an hourly rate card",
             responses=problem_responses(409, _409="A service has this name"))
async def create_catalogue_item(body: CatalogueItemIn, uow: UoW, principal: QuoteWriter) -> CatalogueItemOut:
    return CatalogueItemOut.model_validate(await service.create_item(uow, body))


@router.patch("/quote-catalogue/{item_id}", response_model=CatalogueItemOut,
              summary="Change or archive a service (quotes keep what they copied)",
              responses=problem_responses(404, 409, _409="Another service has this name"))
async def update_catalogue_item(item_id: uuid.UUID, body: CatalogueItemPatch, uow: UoW,
                                principal: QuoteWriter) -> CatalogueItemOut:
    return CatalogueItemOut.model_validate(await service.update_item(uow, item_id, body))


# --- quotes ------------------------------------------------------------------------------------------------


@router.get("/deals/{deal_id}/quotes", response_model=list[QuoteOut], summary="A deal's quotes, newest revision first",
            responses=problem_responses(404))
async def list_quotes(deal_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> list[QuoteOut]:
    quotes = await service.list_quotes(uow, deal_id)
    latest = quotes[0].revision if quotes else 0
    outs = []
    for quote in quotes:
        out = QuoteOut.model_validate(quote)
        out.latest = quote.revision == latest
        outs.append(out)
    return outs


@router.post("/deals/{deal_id}/quotes", status_code=201, response_model=QuoteOut,
             summary="A new quote revision on a deal (a draft; older drafts and sent revisions are superseded)",
             responses=problem_responses(404, 409, _409=_DEAL_CLOSED))
async def create_quote(deal_id: uuid.UUID, body: QuoteIn, uow: UoW, principal: QuoteWriter) -> QuoteOut:
    return await _out(uow, await service.create_quote(uow, deal_id, body, principal))


@router.get("/quotes/{quote_id}", response_model=QuoteOut, summary="One quote revision",
            responses=problem_responses(404))
async def get_quote(quote_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> QuoteOut:
    return await _out(uow, await service.get_quote(uow, quote_id))


@router.patch("/quotes/{quote_id}", response_model=QuoteOut, summary="Change a draft quote",
              responses=problem_responses(404, 409, _409="The quote is not a draft, or the deal is won or lost"))
async def update_quote(quote_id: uuid.UUID, body: QuotePatch, uow: UoW, principal: QuoteWriter) -> QuoteOut:
    return await _out(uow, await service.update_quote(uow, quote_id, body))


@router.post("/quotes/{quote_id}/send", response_model=SentOut,
             summary="Mail the quote to the client with a signed link to its page (valid until valid_until)",
             responses=problem_responses(404, 409, _409="The quote was answered or superseded, or the deal is won "
                                                        "or lost"))
async def send_quote(quote_id: uuid.UUID, body: SendIn, uow: UoW, principal: QuoteWriter) -> SentOut:
    sent = await service.send_quote(uow, quote_id, body, principal, get_settings())
    return SentOut(quote=await _out(uow, sent.quote), mail_id=sent.mail_id, link_expires_at=sent.link_expires_at,
                   preview_url=f"/api/crm/quotes/{quote_id}/preview")


@router.get("/quotes/{quote_id}/preview", response_class=HTMLResponse,
            summary="The client's page of this quote, as staff preview it (HTML)",
            responses={**problem_responses(404), 200: {"content": {"text/html": {}}}})
async def preview_quote(quote_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> HTMLResponse:
    return pages.preview(await service.page_data(uow, await service.get_quote(uow, quote_id)))


@router.get("/quotes/{quote_id}/pdf", response_class=Response, summary="The quote as a PDF",
            responses={**problem_responses(404), 200: {"content": {"application/pdf": {}}}})
async def quote_pdf(quote_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> Response:
    return pages.pdf(await service.page_data(uow, await service.get_quote(uow, quote_id)))


# --- public: the client's page -----------------------------------------------------------------------------

Token = Annotated[str, pages.TOKEN]


@public_router.get("/{token}", response_class=HTMLResponse, include_in_schema=False)
async def client_page(token: Token, uow: ReadUoW) -> HTMLResponse:
    try:
        quote = await service.quote_of_link(uow, token, get_settings())
    except ProblemError as refused:
        return pages.refused(refused)
    return pages.page(await service.page_data(uow, quote), token)


@public_router.get("/{token}/pdf", response_class=Response, include_in_schema=False)
async def client_pdf(token: Token, uow: ReadUoW) -> Response:
    try:
        quote = await service.quote_of_link(uow, token, get_settings())
    except ProblemError as refused:
        return pages.refused(refused)
    return pages.pdf(await service.page_data(uow, quote))


@public_router.post("/{token}/accept", response_class=HTMLResponse, include_in_schema=False)
async def client_accept(token: Token, request: Request, uow: UoW) -> HTMLResponse:
    form = await request.form(max_files=0, max_fields=10)
    name = form.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        return pages.refused(_Unreadable("Type your full name (up to 200 characters) to accept. Nothing was "
                                         "changed."))
    try:
        quote = await service.accept(uow, token, name, request.client.host if request.client else None,
                                     get_settings())
    except ProblemError as refused:
        return pages.refused(refused)
    return pages.answered("Quote accepted", f"Thank you, {quote.accepted_name}: we have your acceptance of "
                                            f"{quote.title} (revision {quote.revision}). We will be in touch.")


@public_router.post("/{token}/decline", response_class=HTMLResponse, include_in_schema=False)
async def client_decline(token: Token, request: Request, uow: UoW) -> HTMLResponse:
    form = await request.form(max_files=0, max_fields=10)
    reason = form.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 2000:
        return pages.refused(_Unreadable("Tell us why (up to 2,000 characters) to decline. Nothing was changed."))
    try:
        quote = await service.decline(uow, token, reason, get_settings())
    except ProblemError as refused:
        return pages.refused(refused)
    return pages.answered("Quote declined", f"Thank you for telling us. {quote.title} (revision {quote.revision}) "
                                            "is declined.")


class _Unreadable(ProblemError):
    status, type_slug, title = 422, "unprocessable", "Something is missing"
