"""The invoice's PDF page layout, drawn by ReportLab: where the template's blocks of text go (erp.documents.render
renders them from `templates/invoice.pdf.xml`), the tables of lines and totals, the payment box with the SEPA code,
and the footer and page numbers on every page.

ReportLab, not an HTML layout engine, because of what a month-end run costs: a one-page invoice takes ~10 ms of CPU
here against ~115 ms for WeasyPrint laying out the HTML view (measured side by side; decision 216). The HTML view
(`invoice.html`) stays the browser's; both show the same content in the same places.

The output is a PDF/A-3b, written in one pass: every font embedded (DejaVu, as subsets; no standard PDF font is ever
referenced, not even the canvas's or a table's default), an sRGB output intent, no transparency, and for an
e-invoice the Factur-X XML as its associated file with the XMP metadata the factur-x package writes (`_embed`).
"""

import hashlib
import html
import importlib.resources
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from erp.documents.fonts import FONTS, prepared
from erp.documents.wrap_once import WrapOnceParagraph

INK = colors.HexColor("#1a1f2b")
MUTED = colors.HexColor("#666666")
RULE = colors.HexColor("#d5dae2")
HEAD = colors.HexColor("#555555")
WATERMARK = colors.HexColor("#f6d5d1")  # a light red without transparency (PDF/A-friendly)
MARGINS = {"top": 18 * mm, "right": 16 * mm, "bottom": 22 * mm, "left": 18 * mm}
WIDTH = A4[0] - MARGINS["left"] - MARGINS["right"]


# Every paragraph breaks its lines once per width (a fast path, byte for byte the plain Paragraph's: wrap_once.py).
Paragraph = WrapOnceParagraph

PRODUCER = "ReportLab PDF Library - www.reportlab.com"  # what ReportLab writes; the XMP must say the same


@cache
def _fonts() -> None:
    """Register the fonts once per process (each document then embeds the subset it uses)."""
    rl_config.useA85 = 0  # streams are binary anyway (fonts, the XML): ASCII85 on the page content only adds 25 %
    for name in FONTS:
        pdfmetrics.registerFont(TTFont(name, str(prepared(name))))
    pdfmetrics.registerFontFamily("sans", normal="sans", bold="sans-bold", italic="sans", boldItalic="sans-bold")


@cache
def _srgb_profile() -> bytes:
    """The sRGB ICC profile of the output intent PDF/A asks for: the International Color Consortium's sRGB2014
    (version 2, 3 KB, free to copy and embed unaltered), the profile WeasyPrint embedded before. Little CMS's
    built-in sRGB (through Pillow) would be version 4.4, newer than the ICC.1:2004-10 (4.2) PDF 1.7 refers to."""
    return importlib.resources.files("erp.documents").joinpath("sRGB2014.icc").read_bytes()


@cache
def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName="sans", fontSize=9, leading=12.6, textColor=INK)
    return {
        "base": base,
        "seller": ParagraphStyle("seller", parent=base, fontSize=8.5, leading=11.9, alignment=TA_RIGHT),
        "heading": ParagraphStyle("heading", parent=base, fontName="sans-bold", fontSize=15, leading=19,
                                  spaceAfter=4 * mm),
        "intro": ParagraphStyle("intro", parent=base, spaceAfter=4 * mm),
        "grand": ParagraphStyle("grand", parent=base, fontName="sans-bold", fontSize=10.5, leading=13.5),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, spaceBefore=4 * mm),
        "caption": ParagraphStyle("caption", parent=base, fontSize=7, leading=9, textColor=HEAD,
                                  alignment=TA_CENTER),
        "notes": ParagraphStyle("notes", parent=base, spaceBefore=6 * mm),
        "footer": ParagraphStyle("footer", parent=base, fontSize=7, leading=9, textColor=MUTED),
    }


@dataclass(frozen=True)
class Attachment:
    """The e-invoice a PDF/A-3 carries: the XML as its associated file, and the XMP metadata that declares it (the
    factur-x package writes that; erp.documents.render), made at `moment`, which the document info repeats."""

    file_name: str  # factur-x.xml
    description: str
    xml: bytes
    xmp: bytes
    moment: datetime  # UTC, whole seconds
    subject: str
    keywords: str


@dataclass(frozen=True)
class Blocks:
    """The template's blocks of one document, in ReportLab paragraph markup (escaped)."""

    seller: str
    bill_to: str
    meta: list[tuple[str, str]]
    heading: str
    intro: str
    line_heads: list[str]
    lines: list[tuple[str, str, str, str, str, str]]  # position, description, quantity, unit price, tax, net
    totals: list[tuple[str, str]]  # the last is the grand total
    legal_notes: str
    payment: str
    scan: str
    notes: str
    footer: str
    watermark: str | None  # a draft's word across every page
    title: str
    author: str
    language: str


class QrCode(Flowable):
    """A QR code's module matrix (erp.documents.payment_code's) drawn as one filled path, one rectangle per run of
    dark modules, in a coordinate system where a module is 1 x 1: the path is whole numbers only, written as PDF
    path operators (`x y w h re`, then `f`) instead of ~400 `rect` calls each formatting four floats."""

    def __init__(self, matrix: Any, size: float, quiet_zone: int = 2) -> None:
        super().__init__()
        self.matrix = matrix
        self.width = self.height = size
        self.quiet_zone = quiet_zone

    def draw(self) -> None:
        count = len(self.matrix) + 2 * self.quiet_zone
        runs = []
        for y, row in enumerate(self.matrix):
            bottom = count - self.quiet_zone - 1 - y  # PDF's y grows upwards
            x, width = 0, len(row)
            while x < width:
                if not row[x]:
                    x += 1
                    continue
                start = x
                while x < width and row[x]:
                    x += 1
                runs.append(f"{start + self.quiet_zone} {bottom} {x - start} 1 re")
        self.canv.saveState()
        self.canv.scale(self.width / count, self.height / count)
        self.canv.setFillColor(colors.black)
        self.canv.addLiteral("\n".join(runs) + "\nf")
        self.canv.restoreState()


def _page_canvas(blocks: Blocks) -> Callable[..., Canvas]:
    """A canvas that knows the page count before it draws each page's footer ("2 / 3"): pages are kept until the
    end, then finished (one layout pass, not two)."""
    styles = _styles()

    class PageCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = "sans"  # never Helvetica, which PDF/A would need embedded
            kwargs["lang"] = blocks.language
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # ReportLab's own page reset

        def save(self) -> None:
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._finish_page(number, len(self._pages))
                super().showPage()
            super().save()

        def _finish_page(self, number: int, count: int) -> None:
            if blocks.watermark:
                self.saveState()
                self.setFillColor(WATERMARK)
                self.setFont("sans-bold", 72)
                self.translate(A4[0] / 2, A4[1] * 0.55)
                self.rotate(30)
                self.drawCentredString(0, 0, blocks.watermark)
                self.restoreState()
            footer = Paragraph(blocks.footer, styles["footer"])
            _, height = footer.wrap(WIDTH - 25 * mm, MARGINS["bottom"])
            footer.drawOn(self, MARGINS["left"], MARGINS["bottom"] - 6 * mm - height + 9)
            self.setFont("sans", 7.5)
            self.setFillColor(MUTED)
            self.drawRightString(A4[0] - MARGINS["right"], MARGINS["bottom"] - 6 * mm, f"{number} / {count}")

    return PageCanvas


class _Raw(pdfdoc.PDFObject):
    """Bytes written as they are: a name ReportLab would escape wrongly (`/text#2Fxml`)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: Any) -> bytes:
        return self.data


class _PlainStream(pdfdoc.PDFStream):
    """A stream with no filter: PDF/A wants the XMP metadata readable as it is (no Filter key)."""

    def format(self, document: Any) -> bytes:
        content = self.content if isinstance(self.content, bytes) else str(self.content).encode("utf-8")
        dictionary = pdfdoc.PDFDictionary({**self.dictionary.dict, "Length": len(content)})
        return bytes(pdfdoc.format(dictionary, document)) + b"\nstream\n" + content + b"\nendstream\n"


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'")


def _embed(canvas: Canvas, attachment: Attachment) -> None:
    """The XML as the document's associated file (PDF/A-3: an embedded file, its file specification with the
    relationship `Data`, listed in the catalog's AF and EmbeddedFiles), the XMP metadata, and a document info
    that says what the XMP says. The same structure the factur-x package writes with pypdf, without reading and
    writing the whole PDF a second time (that doubled its size and cost ~13 ms an invoice)."""
    document = _pdf_document(canvas)
    xml = attachment.xml
    embedded = pdfdoc.PDFStream(dictionary=pdfdoc.PDFDictionary({
        "Type": pdfdoc.PDFName("EmbeddedFile"), "Subtype": _Raw(b"/text#2Fxml"),
        "Params": pdfdoc.PDFDictionary({
            "Size": len(xml), "CheckSum": pdfdoc.PDFText(hashlib.md5(xml).digest()),  # noqa: S324 - PDF's checksum
            "ModDate": pdfdoc.PDFString(_pdf_date(attachment.moment))})}),
        content=xml, filters=[pdfdoc.PDFZCompress])
    reference = document.Reference(embedded)
    name = pdfdoc.PDFString(attachment.file_name)
    spec = document.Reference(pdfdoc.PDFDictionary({
        "Type": pdfdoc.PDFName("Filespec"), "F": name, "UF": name, "Desc": pdfdoc.PDFString(attachment.description),
        "AFRelationship": pdfdoc.PDFName("Data"), "EF": pdfdoc.PDFDictionary({"F": reference, "UF": reference})}))
    catalog = document.Catalog
    catalog.__NoDefault__ = [*catalog.__NoDefault__, "AF"]
    catalog.AF = pdfdoc.PDFArray([spec])
    files = pdfdoc.PDFDictionary({"Names": pdfdoc.PDFArray([name, spec])})
    catalog.Names = pdfdoc.PDFDictionary({"EmbeddedFiles": files})
    catalog.PageMode = pdfdoc.PDFName("UseAttachments")
    catalog.Metadata = _PlainStream(pdfdoc.PDFDictionary({
        "Type": pdfdoc.PDFName("Metadata"), "Subtype": pdfdoc.PDFName("XML")}), attachment.xmp)
    info = document.info
    info.subject, info.keywords, info.producer = attachment.subject, attachment.keywords, PRODUCER
    stamp = _pdf_date(attachment.moment)
    info._dateFormatter = lambda *_: stamp


def _pdf_document(canvas: Canvas) -> Any:
    """The canvas's PDF object tree: its catalog and info take what ReportLab has no call for."""
    return canvas._doc  # type: ignore[attr-defined]


def _output_intent(canvas: Canvas) -> None:
    """The sRGB output intent (PDF/A's requirement for a document that uses colour). ReportLab has no call for it:
    the catalog writes the keys it lists, so the entry is added to this document's catalog's list."""
    document = _pdf_document(canvas)
    profile = pdfdoc.PDFStream(dictionary=pdfdoc.PDFDictionary({"N": 3}), content=_srgb_profile(),
                               filters=[pdfdoc.PDFZCompress])
    intent = pdfdoc.PDFDictionary({
        "Type": pdfdoc.PDFName("OutputIntent"), "S": pdfdoc.PDFName("GTS_PDFA1"),
        "OutputConditionIdentifier": pdfdoc.PDFString("sRGB"), "Info": pdfdoc.PDFString("sRGB IEC61966-2.1"),
        "DestOutputProfile": document.Reference(profile)})
    catalog = document.Catalog
    catalog.__NoDefault__ = [*catalog.__NoDefault__, "OutputIntents"]
    catalog.OutputIntents = pdfdoc.PDFArray([intent])


def plain(markup: str) -> str:
    """A cell's text from the template's (escaped) markup, for a cell drawn as a plain string."""
    return html.unescape(markup)


def _table(rows: list[list[Any]], widths: list[float], style: list[tuple[Any, ...]], padding: float = 0,
           **kwargs: Any) -> Table:
    """A table in the document's text face, cells aligned at their top, `padding` on every side of every cell;
    `style` adds to (and may override) that."""
    return Table(rows, colWidths=widths, style=TableStyle([
        ("FONT", (0, 0), (-1, -1), "sans", 9, 12.6),  # a table's default is Helvetica, even for an empty cell
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), padding),
        ("RIGHTPADDING", (0, 0), (-1, -1), padding), ("TOPPADDING", (0, 0), (-1, -1), padding),
        ("BOTTOMPADDING", (0, 0), (-1, -1), padding), *style]), **kwargs)


def _line_widths(rows: list[list[Any]]) -> list[float]:
    """The lines table's columns: each column of numbers as wide as its widest text (heading included) plus its
    padding, as a browser sizes them; the description takes the rest."""
    padding = 4.5 * mm  # the cell's own 1.5 mm a side, and some air between the columns
    widths = []
    for column in (0, 2, 3, 4, 5):
        widest = max(pdfmetrics.stringWidth(row[column], "sans-bold" if i == 0 else "sans", 7.5 if i == 0 else 9)
                     for i, row in enumerate(rows))
        widths.append(widest + padding)
    position, *numbers = widths
    return [position, WIDTH - sum(widths), *numbers]


def build_pdf(blocks: Blocks, logo: bytes | None, qr_matrix: Any | None, attachment: Attachment | None) -> bytes:
    """The document as PDF bytes: a PDF/A-3 carrying its e-invoice when given one."""
    _fonts()
    s = _styles()
    brand: Any = ""
    if logo is not None:
        image = ImageReader(io.BytesIO(logo))
        width, height = image.getSize()
        scale = min(70 * mm / width, 22 * mm / height)
        brand = Image(io.BytesIO(logo), width=width * scale, height=height * scale, hAlign="LEFT")
    story: list[Flowable] = [
        _table([[brand, Paragraph(blocks.seller, s["seller"])]], [WIDTH - 80 * mm, 80 * mm], []),
        Spacer(1, 10 * mm),
    ]
    # Cells that never wrap (dates, numbers, amounts) are plain strings, drawn as they are: a Paragraph each
    # would be parsed and broken into lines for nothing (they were a third of the layout's time).
    meta = _table([[plain(label), plain(value)] for label, value in blocks.meta], [38 * mm, 42 * mm], [
        ("FONT", (0, 0), (-1, -1), "sans", 9, 12.6), ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
        ("TEXTCOLOR", (1, 0), (1, -1), INK), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.4)])
    story += [_table([[Paragraph(blocks.bill_to, s["base"]), meta]], [WIDTH - 80 * mm, 80 * mm], []),
              Spacer(1, 8 * mm), Paragraph(blocks.heading, s["heading"])]
    if blocks.intro:
        story.append(Paragraph(blocks.intro, s["intro"]))

    rows: list[list[Any]] = [[plain(text) for text in blocks.line_heads]]
    rows += [[plain(position), Paragraph(description, s["base"]), plain(quantity), plain(price), plain(tax), plain(net)]
             for position, description, quantity, price, tax, net in blocks.lines]
    story.append(_table(rows, _line_widths(rows), [
        ("TEXTCOLOR", (0, 0), (-1, -1), INK), ("FONT", (0, 0), (-1, 0), "sans-bold", 7.5, 9.5),
        ("TEXTCOLOR", (0, 0), (-1, 0), HEAD), ("TEXTCOLOR", (0, 1), (0, -1), MUTED),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 1.2, INK), ("LINEBELOW", (0, 1), (-1, -1), 0.5, RULE)],
        padding=1.5 * mm, repeatRows=1))
    story.append(Spacer(1, 4 * mm))

    totals = [[Paragraph(label, s["base"]), plain(amount)] for label, amount in blocks.totals]
    totals[-1][0] = Paragraph(blocks.totals[-1][0], s["grand"])
    story.append(KeepTogether(_table(totals, [62 * mm, 32 * mm], [
        ("FONT", (1, 0), (1, -1), "sans", 9, 12.6), ("FONT", (1, -1), (1, -1), "sans-bold", 10.5, 13.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6), ("TOPPADDING", (0, 0), (-1, -1), 1.6),
        ("LINEABOVE", (0, -1), (-1, -1), 1.2, INK), ("TOPPADDING", (0, -1), (-1, -1), 4.5)], hAlign="RIGHT")))
    if blocks.legal_notes:
        story.append(Paragraph(blocks.legal_notes, s["small"]))

    if blocks.payment:
        code: Any = ""
        if qr_matrix is not None:
            code = _table([[QrCode(qr_matrix, 30 * mm)], [Paragraph(blocks.scan, s["caption"])]], [34 * mm], [])
        box = _table([[Paragraph(blocks.payment, s["base"]), code]], [WIDTH - 40 * mm, 40 * mm],
                     [("ALIGN", (1, 0), (1, 0), "RIGHT"), ("BOX", (0, 0), (-1, -1), 0.6, RULE)], padding=4 * mm)
        story += [Spacer(1, 7 * mm), KeepTogether(box)]
    if blocks.notes:
        story.append(Paragraph(blocks.notes, s["notes"]))

    out = io.BytesIO()
    first = True

    def on_page(canvas: Canvas, _document: Any) -> None:
        nonlocal first
        if first:  # once per document
            first = False
            _output_intent(canvas)
            if attachment is not None:
                _embed(canvas, attachment)

    # A frame without padding: the margins are the page's (as the HTML view's @page).
    frame = Frame(MARGINS["left"], MARGINS["bottom"], WIDTH, A4[1] - MARGINS["top"] - MARGINS["bottom"],
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    document = BaseDocTemplate(out, pagesize=A4, pageTemplates=[PageTemplate("page", [frame], onPage=on_page)],
                               title=blocks.title, author=blocks.author, creator="Throughline", lang=blocks.language)
    document.build(story, canvasmaker=_page_canvas(blocks))
    return out.getvalue()
