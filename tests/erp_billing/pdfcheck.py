"""Reading the documents the ERP renders with other people's tools: pypdf for the text and the PDF/A declaration,
the factur-x package for the embedded e-invoice."""

import io
import re

from pypdf import PdfReader


def pdf_text(data: bytes) -> list[str]:
    """Each page's text (pypdf's extraction), after checking the bytes are a PDF."""
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def pdfa_part(data: bytes) -> str | None:
    """The PDF/A part the document's XMP metadata declares (pdfaid:part), as text."""
    root = PdfReader(io.BytesIO(data)).trailer["/Root"]
    metadata = root["/Metadata"].get_object().get_data().decode("utf-8")
    match = re.search(r"pdfaid:part(?:>|=\")(\d)", metadata)
    return match.group(1) if match else None
