"""The invoice PDF as ReportLab draws it (erp.documents.layout), read back with other people's tools, without a
database: pypdf for the text, the pages and the PDF/A-3 structure (embedded fonts, output intent, unfiltered XMP
that agrees with the document info), the factur-x package for the embedded e-invoice."""

import base64
import io
import re
from decimal import Decimal
from typing import Any

import facturx
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, StreamObject

from erp.documents.content import Line, Logo
from erp.documents.e_invoice import build_xml
from erp.documents.payment_code import epc_matrix, epc_payload
from erp.documents.render import render_pdf
from tests.erp_billing.pdfcheck import pdf_text, pdfa_part
from tests.unit.test_invoice_documents import document

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAA"
                       "AABJRU5ErkJggg==")


def _resolved(value: Any) -> Any:
    """A PDF object with its indirect reference followed (pypdf's types say too little to index it)."""
    return value.get_object()


def _fonts(reader: PdfReader) -> dict[str, Any]:
    fonts: dict[str, Any] = {}
    for page in reader.pages:
        resources = _resolved(page["/Resources"])
        for font in _resolved(resources.get("/Font", DictionaryObject())).values():
            fonts[str(_resolved(font)["/BaseFont"])] = _resolved(font)
    return fonts


def _embeds_every_font(reader: PdfReader) -> bool:
    fonts = _fonts(reader)
    return bool(fonts) and all("/FontFile2" in _resolved(f["/FontDescriptor"]) for f in fonts.values())


def test_the_pdf_is_a_pdfa3_carrying_its_e_invoice() -> None:
    doc = document()
    rendered = render_pdf(doc, None)
    reader = PdfReader(io.BytesIO(rendered.pdf))
    root: Any = reader.root_object
    assert pdfa_part(rendered.pdf) == "3"
    # The e-invoice, found and checked against the Factur-X XSD by the factur-x package, is the one built.
    filename, xml = facturx.get_xml_from_pdf(rendered.pdf, check_xsd=True)
    assert (filename, xml) == ("factur-x.xml", build_xml(doc)) and rendered.xml == xml
    spec = root["/AF"][0].get_object()
    assert spec["/AFRelationship"] == "/Data" and spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    # Every font is embedded (a TrueType subset), no standard font is referenced.
    assert _embeds_every_font(reader), _fonts(reader)
    # The sRGB output intent, with its ICC profile.
    intent = root["/OutputIntents"][0].get_object()
    profile = intent["/DestOutputProfile"].get_object()
    assert intent["/S"] == "/GTS_PDFA1" and profile["/N"] == 3
    icc = profile.get_data()
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB " and icc[8] <= 4  # an ICC RGB profile PDF 1.7 knows
    # The XMP is readable as it is, and says what the document info says.
    metadata = root["/Metadata"].get_object()
    assert isinstance(metadata, StreamObject) and "/Filter" not in metadata
    xmp = metadata.get_data().decode("utf-8")
    info = reader.metadata
    assert info is not None
    assert f"<pdf:Producer>{info.producer}</pdf:Producer>" in xmp
    created = info.creation_date
    assert created is not None and f"<xmp:CreateDate>{created.isoformat()}</xmp:CreateDate>" in xmp
    assert info.title == "Invoice INV-2026-00042" and info.title in xmp


def test_the_pdf_says_what_the_invoice_says_and_escapes_what_people_typed() -> None:
    text = pdf_text(render_pdf(document(), None).pdf)
    assert len(text) == 1
    page = " ".join(text[0].split())
    for expected in ("Lumen <Studio> & Co", "VAT ID: DE136695976", "Käufer AG", "VAT ID: FR40303265045",
                     "INV-2026-00042", "RF18INV202600042", "DE89 3704 0044 0532 0130 00", "800.00 EUR",
                     "Reverse charge", "Thanks <b>", "Registration: HRB 1", "1 / 1"):
        assert expected in page, expected
    german = " ".join(pdf_text(render_pdf(document(language="de"), None).pdf)[0].split())
    assert "Rechnung INV-2026-00042" in german and "Zwischensumme (netto)" in german and "800,00 EUR" in german


def test_a_long_invoice_runs_over_pages_that_number_themselves() -> None:
    lines = tuple(Line(n, f"Sprint {n}: design & build <step>", Decimal(2), "HUR", Decimal("100.00"), Decimal(0),
                       "AE", Decimal("200.00")) for n in range(1, 81))
    rendered = render_pdf(document(lines=lines), None)
    pages = [" ".join(page.split()) for page in pdf_text(rendered.pdf)]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"{number} / {len(pages)}" in page
    assert "DESCRIPTION" in pages[1]  # the lines' heading repeats on every page
    assert all(f"Sprint {n}: design & build <step>" in " ".join(pages) for n in (1, 40, 80))


def test_a_draft_says_so_on_every_page_and_carries_no_e_invoice() -> None:
    rendered = render_pdf(document(is_draft=True, number=None), None)
    assert rendered.xml is None
    reader = PdfReader(io.BytesIO(rendered.pdf))
    assert "/AF" not in reader.root_object and "DRAFT" in (reader.pages[0].extract_text() or "")


def test_the_logo_is_drawn() -> None:
    rendered = render_pdf(document(), Logo(PNG, "image/png"))
    page = PdfReader(io.BytesIO(rendered.pdf)).pages[0]
    images = _resolved(_resolved(page["/Resources"])["/XObject"])
    assert [o.get_object()["/Subtype"] for o in images.values()] == ["/Image"]
    assert re.search(rb"/Width 2\b", rendered.pdf)


def test_no_variant_of_the_document_references_a_font_it_does_not_embed() -> None:
    for variant in (document(currency="USD"), document(is_credit_note=True, credited_number="INV-2026-00041",
                                                       payment_reference=None),
                    document(is_draft=True, number=None), document(seller=None, bank_accounts=())):
        reader = PdfReader(io.BytesIO(render_pdf(variant, Logo(PNG, "image/png")).pdf))
        assert _embeds_every_font(reader), _fonts(reader)


def test_the_payment_code_drawn_scans_as_the_epc_payload() -> None:
    """The PDF draws the SEPA code as runs of dark modules (erp.documents.layout.QrCode): they are exactly the
    encoder's matrix of the EPC payload, and the page rasterised by PDFium (Chromium's PDF engine) at a phone
    camera's modest resolution scans as that payload with zxing-cpp's reader, as a banking app would read it."""
    import pypdfium2
    import zxingcpp

    doc = document()
    assert doc.seller is not None
    account = doc.bank_accounts[0]
    payload = epc_payload(name=doc.seller.name, iban=account.iban, bic=account.bic, amount=doc.total,
                          reference=doc.payment_reference)
    pdf = render_pdf(doc, None).pdf
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert content is not None
    runs = re.findall(rb"^(\d+) (\d+) (\d+) 1 re$", content.get_data(), re.M)
    matrix = epc_matrix(payload)
    size, quiet = len(matrix), 2
    drawn = {(x, size + quiet - 1 - int(y)) for left, y, width in runs
             for x in range(int(left) - quiet, int(left) - quiet + int(width))}
    assert drawn == {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}

    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=150 / 72).to_pil()  # 150 dpi
    scanned = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    assert scanned is not None and scanned.valid and scanned.ec_level == "M"
    assert scanned.text == payload


def test_the_embedded_fonts_keep_every_glyph_and_drop_only_the_hinting() -> None:
    from fontTools.ttLib import TTFont

    from erp.documents.fonts import FONT_DIR, FONTS, prepared

    for name, file in FONTS.items():
        source, made = TTFont(str(FONT_DIR / file)), TTFont(str(prepared(name)))
        assert len(made.getGlyphOrder()) == len(source.getGlyphOrder())  # (their names are not kept: no use in a PDF)
        assert made.getBestCmap().keys() == source.getBestCmap().keys()
        assert "fpgm" in source and not any(table in made for table in ("fpgm", "prep", "cvt "))
