"""The public unsubscribe pages: plain HTML, no script, a form that posts to itself.

Their own Content-Security-Policy (the service's default forbids forms): nothing may run or load, the form may post
only to this origin, nobody may frame it. The address is shown half hidden: whoever holds the link holds the mail,
but a forwarded link need not spell the address out.
"""

from html import escape

from fastapi import Path
from fastapi.responses import HTMLResponse

from throughline_platform.problems import ProblemError

# A link token is 76 URL-safe base64 characters; anything else is refused before it is looked at.
TOKEN = Path(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")

_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
_STYLE = ("body{font:16px/1.5 system-ui,sans-serif;color:#1a1f2b;background:#f5f7fa;margin:0}"
          "main{max-width:32rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;"
          "box-shadow:0 1px 3px #0002}button{font:inherit;padding:.5rem 1rem;border:0;border-radius:6px;"
          "background:#1d4ed8;color:#fff;cursor:pointer}")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            f"content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main><h1>{escape(title)}</h1>"
            f"{body}</main></body></html>")
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": _CSP,
                                                           "Cache-Control": "no-store"})


def masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:2]}{'*' * max(1, len(local) - 2)}@{domain}"


def confirm(address: str) -> HTMLResponse:
    return _page("Unsubscribe", f"<p>Stop the sales emails we send to <strong>{escape(masked(address))}</strong>?</p>"
                                "<form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>")


def done(address: str) -> HTMLResponse:
    return _page("You are unsubscribed", f"<p>We will send no more of these emails to "
                                         f"<strong>{escape(masked(address))}</strong>.</p>")


def refused(problem: ProblemError) -> HTMLResponse:
    return _page("This link does not work", f"<p>{escape(problem.detail)} Nothing was changed.</p>",
                 status=problem.status)
