"""The invoice layout's fast path (erp.documents.wrap_once: a paragraph breaks its lines once per width) makes the
same PDF, byte for byte, as ReportLab's plain `Paragraph`: for a one-page invoice, a draft, and a long one whose lines
run over pages and whose notes are split between pages (a split reads what the last wrap broke)."""

from decimal import Decimal

import pytest
from reportlab import rl_config
from reportlab.platypus import Paragraph

from erp.documents import layout
from erp.documents.content import InvoiceContent, Line
from erp.documents.e_invoice import build_xml
from erp.documents.render import _attachment, _blocks, _qr_matrix
from erp.documents.wrap_once import WrapOnceParagraph
from tests.erp_billing.pdfcheck import pdf_text
from tests.unit.test_invoice_documents import document

LONG = "A sprint of design and build, with the workshops, the reviews and the hand-over to the client's team. " * 3


def _variants() -> list[InvoiceContent]:
    lines = tuple(Line(n, f"{n}. {LONG}", Decimal(2), "HUR", Decimal("100.00"), Decimal(0), "AE", Decimal("200.00"))
                  for n in range(1, 31))
    notes = "\n".join(f"Note {n}: {LONG}" for n in range(1, 25))
    return [document(), document(is_draft=True, number=None), document(lines=lines, notes=notes)]


def _pdf(doc: InvoiceContent, attachment: object) -> bytes:
    return layout.build_pdf(_blocks(doc), None, _qr_matrix(doc), attachment)  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", range(3))
def test_wrapping_once_makes_the_plain_paragraphs_pdf(variant: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rl_config, "invariant", 1)  # no clock nor random document ID in the bytes
    doc = _variants()[variant]
    attachment = None if doc.is_draft else _attachment(doc, build_xml(doc), "Invoice")
    assert layout.Paragraph is WrapOnceParagraph
    fast = _pdf(doc, attachment)
    monkeypatch.setattr(layout, "Paragraph", Paragraph)
    plain = _pdf(doc, attachment)
    assert fast == plain
    if variant == 2:  # the case that splits a paragraph over pages was made
        pages = pdf_text(plain)
        assert len(pages) >= 3 and "Note 24" in pages[-1] and "Note 1:" not in pages[-1]
