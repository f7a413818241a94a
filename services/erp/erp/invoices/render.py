"""An invoice as a self-contained HTML page (printable; the browser's print-to-PDF makes the PDF)."""

from decimal import Decimal
from html import escape

from erp.clients.api import Client
from erp.invoices.models import Invoice, InvoiceKind, Payment
from throughline_events.money import round_money


def render_html(invoice: Invoice, client: Client, payments: list[Payment], credited_number: str | None) -> str:
    c = invoice.currency

    def m(value: Decimal) -> str:
        return f"{round_money(Decimal(str(value)), c):,} {escape(c)}"

    title = "Credit note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "Invoice"
    number = escape(invoice.number or "DRAFT")
    rows = "".join(
        f"<tr><td>{escape(line.description)}</td><td class=n>{line.quantity.normalize():f}</td>"
        f"<td class=n>{m(line.unit_price)}</td><td class=n>{line.tax_rate.normalize():f}&nbsp;%</td>"
        f"<td class=n>{m(line.net_amount)}</td><td class=n>{m(line.tax_amount)}</td>"
        f"<td class=n>{m(line.total_amount)}</td></tr>"
        for line in invoice.lines
    )
    paid_rows = "".join(
        f"<tr><td>{p.paid_on.isoformat()}</td><td>{escape(p.method)}</td><td>{escape(p.reference or '')}</td>"
        f"<td class=n>{m(p.amount)}</td></tr>" for p in payments
    )
    address = escape(client.billing_address or client.address or "")
    refers = f"<p>Credits invoice {escape(credited_number)}.</p>" if credited_number else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} {number}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}} table{{border-collapse:collapse;width:100%}}
th,td{{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left}} .n{{text-align:right}}
.totals td{{border:none}} .status{{text-transform:uppercase;letter-spacing:.05em}}
</style></head><body>
<h1>{title} {number}</h1>
<p class=status>Status: {escape(invoice.status.replace("_", " "))}</p>
<p><strong>Bill to:</strong> {escape(client.name)}<br>{address}
{f"<br>Tax id: {escape(client.tax_id)}" if client.tax_id else ""}</p>
<p>Issue date: {invoice.issue_date.isoformat() if invoice.issue_date else "-"}
&nbsp;·&nbsp; Due date: {invoice.due_date.isoformat() if invoice.due_date else "-"}
&nbsp;·&nbsp; Currency: {escape(c)}</p>
{refers}
<table><thead><tr><th>Description</th><th class=n>Qty</th><th class=n>Unit price</th><th class=n>Tax</th>
<th class=n>Net</th><th class=n>Tax amount</th><th class=n>Total</th></tr></thead><tbody>{rows}</tbody></table>
<table class=totals>
<tr><td class=n>Subtotal</td><td class=n>{m(invoice.subtotal)}</td></tr>
<tr><td class=n>Tax</td><td class=n>{m(invoice.tax_total)}</td></tr>
<tr><td class=n><strong>Total</strong></td><td class=n><strong>{m(invoice.total)}</strong></td></tr>
<tr><td class=n>Paid</td><td class=n>{m(invoice.amount_paid)}</td></tr>
<tr><td class=n>Credited</td><td class=n>{m(invoice.amount_credited)}</td></tr>
<tr><td class=n><strong>Balance due</strong></td><td class=n><strong>{m(invoice.balance_due)}</strong></td></tr>
</table>
{f"<h2>Payments</h2><table><tbody>{paid_rows}</tbody></table>" if paid_rows else ""}
{f"<p>{escape(invoice.notes)}</p>" if invoice.notes else ""}
</body></html>
"""
