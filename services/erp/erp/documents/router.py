import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from erp.documents import service
from erp.policy import Reader
from throughline_messaging.deps import ReadUoW
from throughline_messaging.runtime import ServiceRuntime
from throughline_platform.problems import NotFound

router = APIRouter(prefix="/api/erp/invoices", tags=["invoices"])


def _filename(number: str | None, invoice_id: uuid.UUID, extension: str) -> str:
    return f"{number or f'draft-{invoice_id}'}.{extension}"


@router.get("/{invoice_id}/pdf", response_class=Response,
            summary="The invoice or credit note as a PDF/A-3; once issued a Factur-X e-invoice (EN 16931 XML "
                    "embedded), rendered once and kept; a draft is marked DRAFT",
            responses={200: {"content": {"application/pdf": {}}}})
async def invoice_pdf(invoice_id: uuid.UUID, uow: ReadUoW, principal: Reader, request: Request) -> Response:
    runtime: ServiceRuntime = request.app.state.runtime
    doc, pdf, _ = await service.document_of(uow, runtime.uow, invoice_id)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{_filename(doc.number, invoice_id, "pdf")}"'})


@router.get("/{invoice_id}/e-invoice", response_class=Response,
            summary="The EN 16931 (Factur-X) XML embedded in the issued invoice's PDF",
            responses={200: {"content": {"application/xml": {}}}})
async def invoice_xml(invoice_id: uuid.UUID, uow: ReadUoW, principal: Reader, request: Request) -> Response:
    runtime: ServiceRuntime = request.app.state.runtime
    doc, _, xml = await service.document_of(uow, runtime.uow, invoice_id)
    if xml is None:
        raise NotFound("This document has no e-invoice: it is a draft, or it was issued before the company "
                       "profile was set up.", type_slug="no-e-invoice")
    return Response(xml, media_type="application/xml", headers={
        "Content-Disposition": f'inline; filename="{_filename(doc.number, invoice_id, "xml")}"'})


@router.get("/{invoice_id}/html", response_class=HTMLResponse,
            summary="The invoice as a printable HTML page (the PDF's template)")
async def invoice_html(invoice_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> HTMLResponse:
    return HTMLResponse(await service.html_of(uow, invoice_id))
