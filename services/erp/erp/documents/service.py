"""Invoice documents: the HTML view, the PDF (a Factur-X e-invoice once issued) and its XML.

An issued document is rendered once per revision and kept (`invoice_documents`): the first request for it, or
the scheduler's job (`jobs.py`) shortly after issue, renders it; everyone after reads the stored bytes. So a
billing run that issues many invoices does not render them in its transaction, and what a client received is
what the ERP shows ever after. A draft is rendered on every request, marked DRAFT, and never kept.

Rendering runs outside any transaction, in the renderer thread (`render.RENDERER`); storing it is a short
transaction of its own.
"""

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import structlog

from erp.clients.api import ClientRepository, bill_to
from erp.company.api import current_seller
from erp.company.api import logo as company_logo
from erp.db import utcnow
from erp.documents.content import InvoiceContent, Logo, content_of
from erp.documents.models import InvoiceDocument
from erp.documents.render import RENDERER, Rendered, render_html, render_pdf
from erp.documents.repository import DocumentRepository
from erp.invoices.api import InvoiceStatus, credited_number, get_invoice
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound

log = structlog.get_logger(__name__)

UnitsOfWork = Callable[[], UnitOfWork]


async def content(uow: UnitOfWork, invoice_id: uuid.UUID) -> tuple[InvoiceContent, Logo | None]:
    """The document's data: an issued invoice's from its snapshots, a draft's from the profile and client now."""
    for _ in range(3):
        invoice = await get_invoice(uow, invoice_id)
        # The row and its lines are two statements: a late fee committed between them would mix two revisions.
        if sum((Decimal(line.total_amount) for line in invoice.lines), Decimal(0)) == Decimal(invoice.total):
            break
        uow.session.expire_all()
    else:
        raise Conflict(f"Invoice {invoice_id} is changing; try again.")
    draft = invoice.status == InvoiceStatus.DRAFT
    buyer = None if draft else invoice.bill_to
    if buyer is None:
        client = await ClientRepository(uow.session).get(invoice.client_id)
        assert client is not None  # foreign key
        buyer = bill_to(client)
    seller = await current_seller(uow) if draft else invoice.seller
    doc = content_of(invoice, seller=seller, bill_to=buyer, credited_number=await credited_number(uow, invoice))
    logo = None
    if doc.logo_sha256:
        try:
            data, media_type = await company_logo(uow, doc.logo_sha256)
            logo = Logo(data, media_type)
        except NotFound:
            log.warning("document_logo_missing", invoice_id=str(invoice_id), logo=doc.logo_sha256)
    return doc, logo


async def html_of(uow: UnitOfWork, invoice_id: uuid.UUID) -> str:
    doc, logo = await content(uow, invoice_id)
    return render_html(doc, logo)


async def _render(doc: InvoiceContent, logo: Logo | None) -> Rendered:
    return await asyncio.get_running_loop().run_in_executor(RENDERER, render_pdf, doc, logo)


async def document_of(read: UnitOfWork, write: UnitsOfWork, invoice_id: uuid.UUID) -> tuple[InvoiceContent, bytes,
                                                                                           bytes | None]:
    """(its content, the PDF, the embedded XML): a draft rendered now; an issued document from the store,
    rendered and stored first if this is the first time it is asked for."""
    doc, logo = await content(read, invoice_id)
    if doc.is_draft:
        rendered = await _render(doc, logo)
        return doc, rendered.pdf, rendered.xml
    stored = await DocumentRepository(read.session).get(invoice_id, doc.revision)
    if stored is None:
        stored = await _keep(write, doc, await _render(doc, logo))
    return doc, stored.pdf, stored.e_invoice_xml


@dataclass(frozen=True)
class KeptPdf:
    """An invoice's PDF and what a mail about it needs to know."""

    invoice_id: uuid.UUID
    number: str | None
    revision: int
    is_draft: bool
    seller_name: str | None  # None: issued before the company profile was set up
    pdf: bytes


def _kept(doc: InvoiceContent, pdf: bytes) -> KeptPdf:
    return KeptPdf(doc.invoice_id, doc.number, doc.revision, doc.is_draft,
                   doc.seller.name if doc.seller is not None else None, pdf)


async def pdf_of(units: UnitsOfWork, invoice_id: uuid.UUID,
                 check: Callable[[KeptPdf], None] | None = None) -> KeptPdf:
    """The PDF like `document_of`, holding one database connection at a time and none while it renders: for a
    caller that has not taken its own yet (sending an invoice, a reminder, the client's page). Many at once then
    never wait on the pool for a second connection each while holding a first. `check` may refuse the document
    (raise) before anything is rendered. An issued invoice's kept document is found from the invoice row alone
    (the usual case once the scheduler's job rendered it); the document's content is built only to render."""
    async with units() as read:
        # The invoice's own row and the stored PDF only: the lines and the XML are needed to render, not to send.
        invoice = await get_invoice(read, invoice_id, lines=False)
        if invoice.status != InvoiceStatus.DRAFT:
            pdf = await DocumentRepository(read.session).pdf(invoice_id, invoice.document_revision)
            if pdf is not None:
                seller = invoice.seller
                kept = KeptPdf(invoice.id, invoice.number, invoice.document_revision, False,
                               (seller.get("legal_name") or seller.get("name") or "") if seller else None, pdf)
                if check is not None:
                    check(kept)
                return kept
        read.session.expunge(invoice)  # read again with its lines
        doc, logo = await content(read, invoice_id)
        if check is not None:
            check(_kept(doc, b""))
    rendered = await _render(doc, logo)
    if doc.is_draft:
        return _kept(doc, rendered.pdf)
    return _kept(doc, (await _keep(units, doc, rendered)).pdf)


async def _keep(write: UnitsOfWork, doc: InvoiceContent, rendered: Rendered) -> InvoiceDocument:
    """Store a rendering (unless another renderer was first) and return the stored one."""
    document = InvoiceDocument(
        invoice_id=doc.invoice_id, revision=doc.revision, media_type="application/pdf", pdf=rendered.pdf,
        e_invoice_xml=rendered.xml, sha256=hashlib.sha256(rendered.pdf).hexdigest(), render_ms=rendered.render_ms)
    async with write() as uow:
        stored = await DocumentRepository(uow.session).keep(document)
        await uow.commit()
    if stored:
        log.info("invoice_document_rendered", invoice_id=str(doc.invoice_id), revision=doc.revision,
                 render_ms=rendered.render_ms, e_invoice=rendered.xml is not None)
        return document
    # Another renderer was first: theirs is the document, this rendering was work for nothing (said, to be counted).
    log.info("invoice_document_render_discarded", invoice_id=str(doc.invoice_id), revision=doc.revision)
    async with write() as uow:
        first = await DocumentRepository(uow.session).get(doc.invoice_id, doc.revision)
        assert first is not None
        return first


# How far back the scheduler's job looks for issued invoices without a document: far enough to outlast a worker's
# downtime, near enough that the invoices issued before documents were kept are left to be rendered on request.
RENDER_LOOKBACK = timedelta(days=7)


async def render_missing(read: UnitsOfWork, write: UnitsOfWork, limit: int = 20, at_once: int = 2) -> int:
    """Render and store the documents of recently issued invoices that have none yet (the scheduler's job); how
    many it rendered.

    `at_once` documents are in hand together: the renderer thread draws one while the others are read or stored
    (a commit waits for the disk), so it is not left idle between documents. They still draw one at a time."""
    async with read() as uow:
        missing = await DocumentRepository(uow.session).without_document(utcnow() - RENDER_LOOKBACK, limit)
    hands = asyncio.Semaphore(at_once)

    async def render_one(invoice_id: uuid.UUID) -> bool:
        async with hands:
            try:
                async with read() as uow:
                    doc, logo = await content(uow, invoice_id)
                    if await DocumentRepository(uow.session).has(invoice_id, doc.revision):
                        return False  # a request rendered it since the list was read
                await _keep(write, doc, await _render(doc, logo))
                return True
            except Exception as exc:  # one document that cannot be rendered must not hold up the others
                log.warning("invoice_document_failed", invoice_id=str(invoice_id), error=repr(exc))
                return False

    return sum(await asyncio.gather(*(render_one(invoice_id) for invoice_id in missing)))
