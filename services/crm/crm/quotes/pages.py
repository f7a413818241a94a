"""The client's quote page: plain server-rendered HTML, no script. The same HTML is the staff preview (without the
forms) and, through WeasyPrint, the PDF.

Its own Content-Security-Policy, as the unsubscribe pages (crm/mail/pages.py): nothing may run or load, the forms
post only to this origin, nobody may frame it.
"""

from datetime import datetime
from decimal import Decimal
from html import escape

from fastapi import Path
from fastapi.responses import HTMLResponse, Response

from crm.quotes.models import QuoteStatus
from crm.quotes.service import PageData
from throughline_events.money import round_money
from throughline_platform.problems import ProblemError

# A link token is URL-safe base64; anything else is refused before it is looked at.
TOKEN = Path(min_length=20, max_length=300, pattern=r"^[A-Za-z0-9_-]+$")

_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
_PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; " \
               "frame-ancestors 'self'"
_STYLE = ("body{font:15px/1.5 system-ui,sans-serif;color:#1a1f2b;background:#f5f7fa;margin:0}"
          "main{max-width:48rem;margin:2rem auto;background:#fff;padding:2rem;border-radius:8px;"
          "box-shadow:0 1px 3px #0002}table{border-collapse:collapse;width:100%;margin:1rem 0}"
          "th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #dde3ea}td.n,th.n{text-align:right}"
          "button{font:inherit;padding:.5rem 1rem;border:0;border-radius:6px;background:#1d4ed8;color:#fff;"
          "cursor:pointer}button.secondary{background:#4b5563}input,textarea{font:inherit;padding:.4rem;"
          "width:100%;box-sizing:border-box;border:1px solid #8a94a3;border-radius:6px}label{display:block;"
          "margin:.5rem 0 .25rem;font-weight:600}.notice{padding:.75rem 1rem;border-radius:6px;background:#eef2ff}"
          ".sr{position:absolute;left:-9999px}form{margin:1.5rem 0}a{color:#1d4ed8}"
          "@media print{body{background:#fff}main{box-shadow:none}}")


def _html(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            f"content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>")


def _response(html: str, status: int = 200, csp: str = _CSP) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": csp,
                                                           "Cache-Control": "no-store"})


def _money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount, currency):,} {currency}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _billing(terms: dict[str, object] | None) -> str:
    if not terms:
        return ""
    kind = terms.get("type")
    if kind == "fixed":
        if terms.get("installments") == 1:
            return f"One payment, on {terms.get('start_date')}"
        return (f"{terms.get('installments')} installments, every {terms.get('interval')}, "
                f"from {terms.get('start_date')}")
    if kind == "milestones":
        milestones = terms.get("milestones")
        names = ", ".join(f"{m.get('name')} {m.get('percent')} %" for m in milestones
                          if isinstance(m, dict)) if isinstance(milestones, list) else ""
        return f"Milestones: {names}"
    if kind == "retainer":
        return f"Retainer: {terms.get('count')} x {terms.get('amount')} every {terms.get('interval')}"
    if kind == "time_and_materials":
        cap = terms.get("cap")
        return f"Time and materials at {terms.get('hourly_rate')} an hour" + (f", capped at {cap}" if cap else "")
    return ""


def quote_body(data: PageData) -> str:
    """The quote itself: lines, totals, terms (the page, the preview and the PDF share it)."""
    q = data.quote
    rows = "".join(
        f"<tr><td>{escape(line.description)}</td><td class=\"n\">{line.quantity.normalize():f}</td>"
        f"<td>{escape(line.unit)}</td><td class=\"n\">{_money(line.unit_price, q.currency)}</td>"
        f"<td class=\"n\">{_money(line.amount, q.currency)}</td></tr>" for line in q.lines)
    totals = f"<tr><th colspan=\"4\">Subtotal</th><td class=\"n\">{_money(q.subtotal, q.currency)}</td></tr>"
    if q.discount_total:
        totals += (f"<tr><th colspan=\"4\">Discount {q.discount_percent.normalize():f} %</th>"
                   f"<td class=\"n\">-{_money(q.discount_total, q.currency)}</td></tr>")
    if q.tax_name:
        totals += (f"<tr><th colspan=\"4\">{escape(q.tax_name)} ({q.tax_percent.normalize():f} %)</th>"
                   f"<td class=\"n\">{_money(q.tax_total, q.currency)}</td></tr>")
    totals += (f"<tr><th colspan=\"4\">Total</th><td class=\"n\"><strong>{_money(q.total, q.currency)}</strong>"
               "</td></tr>")
    billing = _billing(q.billing_terms)
    notes = f"<p>{escape(q.notes)}</p>" if q.notes else ""
    return (f"<h1>{escape(q.title)}</h1><p>For {escape(data.company)} &middot; revision {q.revision} &middot; "
            f"valid until {q.valid_until.isoformat()}</p>"
            "<table><caption class=\"sr\">Quote lines</caption><thead><tr><th scope=\"col\">Description</th>"
            "<th scope=\"col\" class=\"n\">Quantity</th><th scope=\"col\">Unit</th><th scope=\"col\" class=\"n\">"
            f"Unit price</th><th scope=\"col\" class=\"n\">Amount</th></tr></thead><tbody>{rows}</tbody>"
            f"<tfoot>{totals}</tfoot></table>" + (f"<p><strong>Billing:</strong> {escape(billing)}</p>" if billing
                                                  else "") + notes)


def _state(data: PageData) -> str | None:
    q = data.quote
    if q.status == QuoteStatus.ACCEPTED:
        return f"Accepted by {escape(q.accepted_name or '')} on {_when(q.accepted_at)}. Thank you."
    if q.status == QuoteStatus.DECLINED:
        return f"Declined on {_when(q.declined_at)}: {escape(q.decline_reason or '')}"
    if q.status == QuoteStatus.SUPERSEDED or not data.latest:
        return "A newer revision of this quote has been sent: this one can no longer be accepted."
    return None


def page(data: PageData, token: str) -> HTMLResponse:
    state = _state(data)
    if state is not None:
        answer = f"<p class=\"notice\" role=\"status\">{state}</p>"
    else:
        answer = (f"<form method=\"post\" action=\"{escape(token)}/accept\"><h2>Accept</h2>"
                  "<label for=\"name\">Your full name</label>"
                  "<input id=\"name\" name=\"name\" required maxlength=\"200\" autocomplete=\"name\">"
                  "<p>By typing your name and accepting, you agree to this quote. We record your name, the time and "
                  "your network address.</p><button type=\"submit\">Accept the quote</button></form>"
                  f"<form method=\"post\" action=\"{escape(token)}/decline\"><h2>Decline</h2>"
                  "<label for=\"reason\">Why? (it helps us)</label>"
                  "<textarea id=\"reason\" name=\"reason\" required maxlength=\"2000\" rows=\"3\"></textarea>"
                  "<p><button type=\"submit\" class=\"secondary\">Decline the quote</button></p></form>")
    pdf = f"<p><a href=\"{escape(token)}/pdf\">Download the PDF</a></p>"
    # The page is /api/crm/public-quotes/{token}: "{token}/accept" is relative to /api/crm/public-quotes/.
    return _response(_html(data.quote.title, quote_body(data) + pdf + answer))


def preview(data: PageData) -> HTMLResponse:
    """What the client sees, for staff: the quote with its state, the forms shown disabled."""
    state = _state(data) or "The client accepts (typing their name) or declines (giving a reason) here."
    return _response(_html(data.quote.title, quote_body(data) + f"<p class=\"notice\">{state}</p>"),
                     csp=_PREVIEW_CSP)


def answered(title: str, message: str) -> HTMLResponse:
    return _response(_html(title, f"<h1>{escape(title)}</h1><p role=\"status\">{escape(message)}</p>"))


def refused(problem: ProblemError) -> HTMLResponse:
    return _response(_html("This link does not work", f"<h1>{escape(problem.title)}</h1>"
                                                      f"<p>{escape(problem.detail)}</p>"), status=problem.status)


def pdf(data: PageData) -> Response:
    """The quote as a PDF (WeasyPrint, as the ERP's invoices)."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s, only processes that render pay it

    document = HTML(string=_html(data.quote.title, quote_body(data))).write_pdf()
    assert document is not None
    name = f"quote-{data.quote.revision}.pdf"
    return Response(document, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=\"{name}\"", "Cache-Control": "no-store"})
