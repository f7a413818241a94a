"""The client's page: an invoice, its PDF and its payment details, opened from the link in the mail, no login.

Plain HTML, no script; its own Content-Security-Policy (nothing may run, load or frame it; the one stylesheet is
inline). A refused link (403 forged or altered, 410 expired) shows why and nothing of the invoice.
"""

from html import escape

from fastapi import Path
from fastapi.responses import HTMLResponse

from erp.documents.api import format_money
from erp.mailing.service import PublicInvoice
from throughline_platform.problems import ProblemError

# A link token is 76 URL-safe base64 characters; anything else is refused before it is looked at.
TOKEN = Path(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")

_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
_STYLE = ("body{font:16px/1.5 system-ui,sans-serif;color:#1a1f2b;background:#f5f7fa;margin:0}"
          "main{max-width:40rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;"
          "box-shadow:0 1px 3px #0002}table{border-collapse:collapse;width:100%}th,td{text-align:left;"
          "padding:.35rem .5rem;border-bottom:1px solid #e4e7ec}th{width:40%;font-weight:600}"
          ".button{display:inline-block;margin-top:1rem;padding:.5rem 1rem;border-radius:6px;background:#1d4ed8;"
          "color:#fff;text-decoration:none}.paid{color:#067647;font-weight:600}")
_HEADERS = {"Content-Security-Policy": _CSP, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex"}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            f"content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main><h1>{escape(title)}</h1>"
            f"{body}</main></body></html>")
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _row(label: str, value: str | None) -> str:
    return f"<tr><th scope=\"row\">{escape(label)}</th><td>{escape(value or '')}</td></tr>" if value else ""


def invoice_page(page: PublicInvoice, token: str) -> HTMLResponse:
    doc = page.doc
    what = "Credit note" if page.is_credit_note else "Invoice"
    seller = doc.seller.name if doc.seller else ""
    rows = [
        _row("From", seller), _row("To", doc.bill_to.name), _row("Issued", str(doc.issue_date or "")),
        _row("Due", str(doc.due_date or "") if not page.is_credit_note else None),
        _row("Total", format_money(doc.total, doc.currency, "en")),
    ]
    if page.status in ("paid", "credited"):
        state = f"<p class=\"paid\">This {what.lower()} is settled: nothing is due. Thank you.</p>"
    elif page.status == "void":
        state = f"<p>This {what.lower()} was cancelled: nothing is due.</p>"
    elif page.is_credit_note:
        state = ""
    else:
        rows.append(_row("Amount due", format_money(page.balance_due, doc.currency, "en")))
        state = ""
    payment = ""
    if not page.is_credit_note and page.status not in ("paid", "credited", "void"):
        pay_rows = [_row("Amount", format_money(page.balance_due, doc.currency, "en")),
                    _row("Reference", doc.payment_reference), _row("Beneficiary", seller)]
        for account in doc.bank_accounts:
            pay_rows += [_row("IBAN", account.iban_grouped), _row("BIC", account.bic), _row("Bank", account.bank_name)]
        payment = ("<h2>Payment details</h2><p>Please transfer the amount due quoting the reference, so that your "
                   f"payment is matched to this invoice.</p><table>{''.join(pay_rows)}</table>")
    body = (f"{state}<table>{''.join(rows)}</table>{payment}"
            f"<p><a class=\"button\" href=\"{escape(token)}/pdf\" download>Download the PDF</a></p>")
    return _page(f"{what} {doc.number}", body)


def refused(problem: ProblemError) -> HTMLResponse:
    return _page("This link does not work", f"<p>{escape(problem.detail)}</p>", status=problem.status)
