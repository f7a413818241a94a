import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from erp.mailing import pages, service
from erp.mailing.schemas import (
    InvoiceMailOut,
    MailDraftOut,
    PreviewIn,
    PreviewOut,
    SendIn,
    SentOut,
    TemplateIn,
    TemplateOut,
)
from erp.policy import InvoiceSender, MailTemplateWriter, Reader
from throughline_messaging.deps import ReadUoW, UoW
from throughline_messaging.runtime import ServiceRuntime
from throughline_platform.openapi import problem_responses
from throughline_platform.problems import ProblemError

router = APIRouter(prefix="/api/erp", tags=["invoice mail"])
# Reached without a user token, through the gateway's public routes: the signed link is the credential.
public_router = APIRouter(prefix="/api/erp/public", tags=["invoice mail"])


@router.post("/invoices/{invoice_id}/send", status_code=202, response_model=SentOut,
             summary="Send an issued invoice by mail, its PDF attached: the mail waits in the outbox for the sender",
             responses=problem_responses(
                 404, 409, 422, _409="The invoice is a draft (issue it first) or void, or changed meanwhile",
                 _422="No recipient (the client has no e-mail), a recipient that is not an address, or the invoice "
                      "template does not work"))
async def send_invoice(invoice_id: uuid.UUID, uow: UoW, principal: InvoiceSender, request: Request,
                       body: SendIn | None = None) -> SentOut:
    runtime: ServiceRuntime = request.app.state.runtime
    # The PDF is read (or rendered and kept, the first time) in units of work without a transaction: its reads need
    # none, and keeping a rendering is one INSERT ... ON CONFLICT DO NOTHING, whole on its own. That spares a kept
    # PDF's read the BEGIN and ROLLBACK round trips.
    return SentOut.model_validate(await service.send_invoice(uow, runtime.read_uow, invoice_id, body or SendIn(),
                                                             principal))


@router.get("/invoices/{invoice_id}/mail-draft", response_model=MailDraftOut,
            summary="What the send dialog starts from: the default recipients, the invoice template rendered",
            responses=problem_responses(404, 409, 422))
async def mail_draft(invoice_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> MailDraftOut:
    return MailDraftOut.model_validate(await service.mail_draft(uow, invoice_id))


@router.get("/invoices/{invoice_id}/mails", response_model=list[InvoiceMailOut],
            summary="The invoice's mails (sent, reminders) and what became of each: queued, sent, failed, bounced",
            responses=problem_responses(404))
async def invoice_mails(invoice_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> list[InvoiceMailOut]:
    return [InvoiceMailOut.model_validate(m) for m in await service.mails_of(uow, invoice_id)]


@router.get("/mail-templates", response_model=list[TemplateOut],
            summary="The invoice mail template and one per reminder step (saved, else the default)")
async def list_templates(uow: ReadUoW, principal: Reader) -> list[TemplateOut]:
    return [TemplateOut.model_validate(t) for t in await service.list_templates(uow)]


@router.put("/mail-templates/{key}", response_model=TemplateOut,
            summary="Save a mail template (Jinja2, sandboxed): refused, naming the line, if it does not compile or "
                    "names an unknown variable",
            responses=problem_responses(404, 422, _422="The template does not compile or names an unknown "
                                                       "variable (the problem names the line)"))
async def save_template(key: str, body: TemplateIn, uow: UoW, principal: MailTemplateWriter) -> TemplateOut:
    return TemplateOut.model_validate(await service.save_template(uow, key, body, principal))


@router.delete("/mail-templates/{key}", response_model=TemplateOut, summary="Go back to the default template",
               responses=problem_responses(404))
async def reset_template(key: str, uow: UoW, principal: MailTemplateWriter) -> TemplateOut:
    return TemplateOut.model_validate(await service.reset_template(uow, key))


@router.post("/mail-templates/{key}/preview", response_model=PreviewOut,
             summary="A template (saved, or the source given) rendered for an invoice or for sample data",
             responses=problem_responses(404, 422))
async def preview_template(key: str, body: PreviewIn, uow: ReadUoW, principal: MailTemplateWriter) -> PreviewOut:
    return PreviewOut.model_validate(await service.preview(uow, key, body.subject, body.body, body.invoice_id))


# --- public: the client's page -------------------------------------------------------------------------------


@public_router.get("/invoices/{token}", response_class=HTMLResponse, include_in_schema=False)
async def client_page(token: Annotated[str, pages.TOKEN], uow: ReadUoW) -> HTMLResponse:
    try:
        page = await service.public_invoice(uow, token)
    except ProblemError as problem:
        return pages.refused(problem)
    return pages.invoice_page(page, token)


@public_router.get("/invoices/{token}/pdf", response_class=Response, include_in_schema=False)
async def client_pdf(token: Annotated[str, pages.TOKEN], request: Request) -> Response:
    runtime: ServiceRuntime = request.app.state.runtime
    try:
        filename, pdf = await service.public_pdf(runtime.uow, token)
    except ProblemError as problem:
        return pages.refused(problem)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex"})
