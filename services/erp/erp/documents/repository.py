import uuid
from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp.documents.models import InvoiceDocument
from erp.invoices.api import Invoice, InvoiceStatus


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, invoice_id: uuid.UUID, revision: int) -> InvoiceDocument | None:
        return await self.session.get(InvoiceDocument, (invoice_id, revision))

    async def has(self, invoice_id: uuid.UUID, revision: int) -> bool:
        """Whether that revision's document is kept (without reading its bytes)."""
        return (await self.session.execute(select(exists().where(
            InvoiceDocument.invoice_id == invoice_id, InvoiceDocument.revision == revision)))).scalar_one()

    async def pdf(self, invoice_id: uuid.UUID, revision: int) -> bytes | None:
        """The stored PDF alone (not its XML nor the rest of the row): what a mail attaches."""
        return (await self.session.execute(select(InvoiceDocument.pdf).where(
            InvoiceDocument.invoice_id == invoice_id, InvoiceDocument.revision == revision))).scalar_one_or_none()

    async def keep(self, document: InvoiceDocument) -> bool:
        """Store a rendering unless one is already there (two renderers raced: the first one stays); whether this
        one was stored."""
        stored = await self.session.execute(insert(InvoiceDocument).values(
            invoice_id=document.invoice_id, revision=document.revision, media_type=document.media_type,
            pdf=document.pdf, e_invoice_xml=document.e_invoice_xml, sha256=document.sha256,
            render_ms=document.render_ms).on_conflict_do_nothing(index_elements=["invoice_id", "revision"])
            .returning(InvoiceDocument.invoice_id))
        return stored.first() is not None

    async def without_document(self, issued_since: datetime, limit: int) -> list[uuid.UUID]:
        """Invoices and credit notes issued since then whose current revision has no stored document yet, newest
        first. Older ones (issued before documents were kept) are rendered when someone asks for them.

        Newest first because whoever sends a billing run's invoices goes through them oldest first, rendering what
        is not kept yet: the job then starts from the other end, and the two meet once instead of rendering the
        same invoices side by side (which had the scheduler render a third of them a second time, in vain)."""
        query = (select(Invoice.id)
                 .outerjoin(InvoiceDocument, and_(InvoiceDocument.invoice_id == Invoice.id,
                                                  InvoiceDocument.revision == Invoice.document_revision))
                 .where(Invoice.issued_at >= issued_since, Invoice.status != InvoiceStatus.DRAFT,
                        InvoiceDocument.invoice_id.is_(None))
                 .order_by(Invoice.issued_at.desc(), Invoice.id.desc()).limit(limit))
        return list((await self.session.execute(query)).scalars())
