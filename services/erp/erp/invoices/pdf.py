"""A plain invoice PDF, written directly (PDF 1.4, the built-in Courier font; no dependency).

Monospaced text lines on A4 pages: enough for a correct, archivable invoice document; the HTML rendering
is the pretty one.
"""

from decimal import Decimal

from erp.clients.api import Client
from erp.invoices.models import Invoice, InvoiceKind, Payment
from throughline_events.money import round_money

_PAGE_W, _PAGE_H = 595, 842  # A4 in points
_TOP, _LEADING, _LINES_PER_PAGE, _SIZE = 800, 13, 56, 9


def _text(value: str) -> str:
    # Courier with WinAnsiEncoding: latin-1 text; anything else becomes "?". Escape the string delimiters.
    latin = value.encode("latin-1", errors="replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def invoice_lines(invoice: Invoice, client: Client, payments: list[Payment], credited_number: str | None) -> list[str]:
    c = invoice.currency

    def m(value: Decimal) -> str:
        return f"{round_money(value, c):,}"

    title = "CREDIT NOTE" if invoice.kind == InvoiceKind.CREDIT_NOTE else "INVOICE"
    rows = [f"{title} {invoice.number or 'DRAFT'}", "",
            f"Bill to: {client.name}"]
    address = client.billing_address or client.address
    if address:
        rows += [f"         {part}" for part in address.splitlines()]
    if client.tax_id:
        rows.append(f"Tax id:  {client.tax_id}")
    rows += ["", f"Issue date: {invoice.issue_date or '-'}   Due date: {invoice.due_date or '-'}   Currency: {c}",
             f"Status: {invoice.status.replace('_', ' ')}"]
    if credited_number:
        rows.append(f"Credits invoice {credited_number}")
    rows += ["", f"{'Description':<44} {'Qty':>8} {'Unit price':>12} {'Tax %':>6} {'Total':>14}", "-" * 88]
    for line in invoice.lines:
        description = line.description
        first = True
        while description or first:
            chunk, description = description[:44], description[44:]
            if first:
                rows.append(f"{chunk:<44} {line.quantity.normalize():>8f} {m(line.unit_price):>12} "
                            f"{line.tax_rate.normalize():>6f} {m(line.total_amount):>14}")
                first = False
            else:
                rows.append(f"  {chunk}")
    rows += ["-" * 88,
             f"{'Subtotal':>74} {m(invoice.subtotal):>14}",
             f"{'Tax':>74} {m(invoice.tax_total):>14}",
             f"{'Total ' + c:>74} {m(invoice.total):>14}",
             f"{'Paid':>74} {m(invoice.amount_paid):>14}",
             f"{'Credited':>74} {m(invoice.amount_credited):>14}",
             f"{'Balance due ' + c:>74} {m(invoice.balance_due):>14}"]
    if payments:
        rows += ["", "Payments:"] + [f"  {p.paid_on}  {p.method:<14} {p.reference or '':<30} {m(p.amount):>14}"
                                     for p in payments]
    if invoice.notes:
        rows += ["", *invoice.notes.splitlines()]
    return rows


def render_pdf(rows: list[str]) -> bytes:
    pages = [rows[i:i + _LINES_PER_PAGE] for i in range(0, max(len(rows), 1), _LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # the page tree, filled in below once the page object numbers are known
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>")
    page_refs = []
    for page_number, page in enumerate(pages, start=1):
        text = [f"BT /F1 {_SIZE} Tf {_LEADING} TL 40 {_TOP} Td"]
        for row in page:
            text.append(f"({_text(row)}) Tj T*")
        text.append(f"({_text(f'Page {page_number} of {len(pages)}')}) Tj ET")
        stream = "\n".join(text).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_ref = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 3 0 R >> >> "
                       b"/Contents %d 0 R >>" % (_PAGE_W, _PAGE_H, content_ref))
        page_refs.append(len(objects))
    kids = " ".join(f"{ref} 0 R" for ref in page_refs)
    objects[1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_refs)} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
