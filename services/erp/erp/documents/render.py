"""A document's HTML (the sandboxed Jinja2 template), its PDF/A-3 (WeasyPrint) and, for an issued invoice or credit
note with a seller, the Factur-X e-invoice: the EN 16931 XML embedded in the PDF/A-3 (the factur-x package, which
also checks the XML against the Factur-X XSD before embedding it).

Pure and synchronous: the caller runs `render_pdf` in `RENDERER`, one worker thread per process, so the event
loop stays free during the ~80 ms of layout and two renders never share WeasyPrint's font machinery at once.
That thread keeps one WeasyPrint font configuration for all its renders: a new one per document cost ~15 % more
CPU and left ~30 MB more resident after 60 renders (Pango font maps that are never given back), measured side by
side. WeasyPrint and factur-x (which brings pypdf, requests and Pillow: ~37 MB) are imported on the first render,
so a process that never renders never holds them.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

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
from erp.documents.payment_code import epc_payload, epc_svg, payable_by_code

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


def _payment_code(doc: InvoiceContent) -> Markup | None:
    if doc.is_credit_note or doc.is_draft or doc.seller is None or not doc.bank_accounts:
        return None
    if not payable_by_code(doc.currency, doc.amount_due):
        return None
    account = doc.bank_accounts[0]
    payload = epc_payload(name=doc.seller.name, iban=account.iban, bic=account.bic, amount=doc.amount_due,
                          reference=doc.payment_reference)
    return Markup(epc_svg(payload))  # noqa: S704 - segno's SVG of checked values, no user markup


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


_THREAD = threading.local()  # the renderer thread's font configuration


def _font_config() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    config = getattr(_THREAD, "font_config", None)
    if config is None:
        config = _THREAD.font_config = FontConfiguration()
    return config


def render_pdf(doc: InvoiceContent, logo: Logo | None) -> Rendered:
    # Imported here: loading Pango costs ~0.3 s and both libraries' memory; only processes that render pay it.
    import facturx  # ships no type information
    from weasyprint import HTML

    started = time.perf_counter()
    pdf = HTML(string=render_html(doc, logo)).write_pdf(pdf_variant="pdf/a-3b", font_config=_font_config())
    assert pdf is not None
    xml = None
    if doc.is_e_invoice:
        xml = build_xml(doc)
        title = f"{'Credit note' if doc.is_credit_note else 'Invoice'} {doc.number}"
        assert doc.seller is not None
        pdf = facturx.generate_from_binary(
            pdf, xml, flavor="factur-x", level="en16931", check_xsd=True, lang=_LANGUAGE_TAGS.get(doc.language),
            pdf_metadata={"author": doc.seller.name, "keywords": "Factur-X, Invoice", "title": title,
                          "subject": f"{title} of {doc.issue_date} issued by {doc.seller.name}"})
    return Rendered(pdf, xml, round((time.perf_counter() - started) * 1000))
