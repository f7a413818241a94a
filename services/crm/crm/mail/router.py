import base64
import binascii
import hashlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from crm.mail import inbound, pages, service
from crm.mail.repository import MailRepository, TemplateRepository
from crm.mail.schemas import (
    ComposeIn,
    ConsentIn,
    ConsentOut,
    DirectionName,
    InboundAttachment,
    InboundMailIn,
    InboundOut,
    MailOut,
    MailPage,
    PreviewIn,
    RenderedOut,
    SenderIn,
    SenderOut,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
)
from crm.policy import ConsentWriter, MailComposer, MailTemplateWriter, Reader
from crm.settings import get_settings
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.mail.links import LinkForbidden, LinkGone
from throughline_platform.problems import PayloadTooLarge, Unprocessable

router = APIRouter(prefix="/api/crm", tags=["mail"])
# Reached without a user token, through the gateway's public routes: each checks its own credential (the inbound
# secret, the signed unsubscribe link).
public_router = APIRouter(prefix="/api/crm", tags=["mail"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


# --- templates ---------------------------------------------------------------------------------------------


@router.post("/mail-templates", status_code=201, response_model=TemplateOut,
             summary="Save a mail template (checked: 422 naming the part and line of a problem)")
async def create_template(body: TemplateIn, uow: UoW, principal: MailTemplateWriter) -> TemplateOut:
    return TemplateOut.model_validate(await service.create_template(uow, body, principal.user_id))


@router.get("/mail-templates", response_model=list[TemplateOut], summary="Mail templates, by name")
async def list_templates(uow: ReadUoW, principal: Reader) -> list[TemplateOut]:
    return [TemplateOut.model_validate(t) for t in await TemplateRepository(uow.session).all()]


@router.get("/mail-templates/{template_id}", response_model=TemplateOut, summary="One mail template")
async def get_template(template_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> TemplateOut:
    return TemplateOut.model_validate(await service.get_template(uow, template_id))


@router.patch("/mail-templates/{template_id}", response_model=TemplateOut, summary="Change a mail template")
async def update_template(template_id: uuid.UUID, body: TemplatePatch, uow: UoW,
                          principal: MailTemplateWriter) -> TemplateOut:
    return TemplateOut.model_validate(await service.update_template(uow, template_id, body))


@router.delete("/mail-templates/{template_id}", status_code=204,
               summary="Delete a mail template (409 while a sequence uses it)")
async def delete_template(template_id: uuid.UUID, uow: UoW, principal: MailTemplateWriter) -> Response:
    await service.delete_template(uow, template_id)
    return Response(status_code=204)


@router.post("/mail-templates/preview", response_model=RenderedOut,
             summary="Render a template for a contact, deal, company or lead (or with example values)")
async def preview(body: PreviewIn, uow: ReadUoW, principal: MailComposer) -> RenderedOut:
    return await service.preview(uow, body, principal)


# --- mails -------------------------------------------------------------------------------------------------


@router.post("/mails", status_code=202, response_model=MailOut,
             summary="Send a mail about a deal, contact, company or lead (queued; on the timelines at once)")
async def send_mail(body: ComposeIn, uow: UoW, principal: MailComposer) -> MailOut:
    return MailOut.model_validate(await service.send_mail(uow, body, principal, get_settings()))


@router.get("/mails", response_model=MailPage, summary="Mails sent and received, newest first")
async def list_mails(uow: ReadUoW, principal: Reader, contact_id: uuid.UUID | None = None,
                     company_id: uuid.UUID | None = None, deal_id: uuid.UUID | None = None,
                     lead_id: uuid.UUID | None = None, enrolment_id: uuid.UUID | None = None,
                     direction: DirectionName | None = None,
                     unmatched: Annotated[bool, Query(description="inbound mail matched to nobody")] = False,
                     limit: Limit = 50, offset: Offset = 0) -> MailPage:
    items, total = await MailRepository(uow.session).search(
        contact_id=contact_id, company_id=company_id, deal_id=deal_id, lead_id=lead_id, enrolment_id=enrolment_id,
        direction=direction, unmatched=unmatched, limit=limit, offset=offset)
    return MailPage(items=[MailOut.model_validate(m) for m in items], total=total, limit=limit, offset=offset)


@router.get("/mails/{mail_id}", response_model=MailOut, summary="One mail")
async def get_mail(mail_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> MailOut:
    return MailOut.model_validate(await service.get_mail(uow, mail_id))


@router.get("/mail-senders/me", response_model=SenderOut, summary="You as a sender of CRM mail")
async def my_sender(uow: ReadUoW, principal: Reader) -> SenderOut:
    return await service.my_profile_view(uow, principal)


@router.put("/mail-senders/me", response_model=SenderOut, summary="The name your mail is from ({{ owner.name }})")
async def rename_sender(body: SenderIn, uow: UoW, principal: MailComposer) -> SenderOut:
    return SenderOut.model_validate(await service.my_profile(uow, principal, body.name))


# --- consent -----------------------------------------------------------------------------------------------


@router.get("/contacts/{contact_id}/consent", response_model=ConsentOut,
            summary="Whether the contact agreed to sequence mail, and where that came from")
async def get_consent(contact_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> ConsentOut:
    return ConsentOut(**await service.consent_of(uow, contact_id))


@router.put("/contacts/{contact_id}/consent", response_model=ConsentOut,
            summary="Record the contact's consent (withdrawn stops their sequences)")
async def put_consent(contact_id: uuid.UUID, body: ConsentIn, uow: UoW, principal: ConsentWriter) -> ConsentOut:
    return ConsentOut(**await service.set_consent(uow, contact_id, body, principal))


# --- public: unsubscribe, inbound mail -----------------------------------------------------------------------


@public_router.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
async def unsubscribe_page(token: Annotated[str, pages.TOKEN], uow: ReadUoW) -> HTMLResponse:
    """The page the link in a mail opens: it asks to confirm (a GET changes nothing: link scanners follow links)."""
    try:
        mail = await service.unsubscribe_target(uow, token, get_settings())
    except (LinkForbidden, LinkGone) as refused:
        return pages.refused(refused)
    return pages.confirm(mail.to_addresses[0])


@public_router.post("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
async def unsubscribe(token: Annotated[str, pages.TOKEN], request: Request, uow: UoW) -> HTMLResponse:
    """RFC 8058 one-click (mail clients POST `List-Unsubscribe=One-Click`), or the page's button."""
    form = await request.form()
    one_click = form.get("List-Unsubscribe") == "One-Click"
    try:
        mail = await service.unsubscribe(uow, token, get_settings(), one_click=one_click)
    except (LinkForbidden, LinkGone) as refused:
        return pages.refused(refused)
    return pages.done(mail.to_addresses[0])


@public_router.post("/inbound-mail", response_model=InboundOut,
                    summary="Inbound mail from an inbound-parse service (X-Inbound-Secret or basic auth)")
async def inbound_mail(request: Request, uow: UoW) -> InboundOut:
    settings = get_settings()
    inbound.check_secret(settings, request.headers.get("x-inbound-secret"), _basic_password(request))
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > settings.inbound_max_bytes:
        raise PayloadTooLarge(settings.inbound_max_bytes)
    data, attachments = await _inbound(request, settings.inbound_max_bytes)
    return await inbound.receive(uow, data, attachments, settings)


def _basic_password(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        _, _, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return password


async def _inbound(request: Request, limit: int) -> tuple[InboundMailIn, list[inbound.Attachment]]:
    """The posted mail, as JSON or multipart/form-data (files are the attachments)."""
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("multipart/form-data") or content_type.startswith(
                "application/x-www-form-urlencoded"):
            form = await request.form(max_files=100, max_fields=200)
            fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
            fields["recipients"] = [r for r in form.getlist("recipients") if isinstance(r, str)]
            data = InboundMailIn.model_validate(fields)
            files = [f for _, f in form.multi_items() if isinstance(f, UploadFile)]
            attachments = []
            total = 0
            for upload in files:
                content = await upload.read()
                total += len(content)
                if total > limit:
                    raise PayloadTooLarge(limit)
                attachments.append(_listed(upload.filename or "", upload.content_type or "", content))
            return data, attachments
        body = await request.body()
        if len(body) > limit:
            raise PayloadTooLarge(limit)
        data = InboundMailIn.model_validate_json(body)
    except ValidationError as exc:
        raise Unprocessable("The inbound mail is not in the expected shape.",
                            errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]) from None
    return data, [_decoded(a) for a in data.attachments]


def _decoded(attachment: InboundAttachment) -> inbound.Attachment:
    if attachment.content is None:
        return inbound.Attachment(attachment.filename, attachment.content_type, attachment.size or 0, None)
    try:
        content = base64.b64decode(attachment.content, validate=True)
    except binascii.Error:
        raise Unprocessable(f"attachments: {attachment.filename!r} is not base64.") from None
    return _listed(attachment.filename, attachment.content_type, content)


def _listed(filename: str, content_type: str, content: bytes) -> inbound.Attachment:
    return inbound.Attachment(filename[:255], content_type[:255] or "application/octet-stream", len(content),
                              hashlib.sha256(content).hexdigest())
