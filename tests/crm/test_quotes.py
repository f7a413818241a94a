"""Quotes (issue 25), through the gateway: a catalogue of services and rate cards, quote revisions on a deal (only
the latest can be accepted), sent by mail with a signed, expiring link (read back from the embedded SMTP server's
.eml files), the client's public page, PDF, acceptance (name, time and address recorded) or decline; forged,
altered, expired or superseded links change nothing; acceptance wins the deal (quote.accepted, then deal.won with
the lines) and the ERP project gets the lines as its budget, its invoices their descriptions."""

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from devstack.stack import Stack
from tests.crm.helpers import as_role, outbox_envelopes, suffix
from tests.crm.mail_support import delivered, parts, person, wait_mail_status
from tests.support import Api, money

LINK = re.compile(r"https?://\S+/api/crm/public-quotes/[A-Za-z0-9_-]+")


@pytest.fixture(scope="module")
def seller(stack: Stack) -> Any:
    with as_role(stack, "sales", user_id=f"quotes-{suffix()}", via_gateway=True) as api:
        yield api


def public(stack: Stack) -> httpx.Client:
    """The client: no token, through the gateway."""
    return httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.gateway}", timeout=30)


def _catalogue(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    s = suffix()
    workshop = api.ok("POST", "/api/crm/quote-catalogue", 201, json={
        "name": f"Discovery workshop {s}", "kind": "fixed", "unit_price": "3000.00", "currency": "EUR"})
    design = api.ok("POST", "/api/crm/quote-catalogue", 201, json={
        "name": f"Design and build {s}", "kind": "hourly", "unit_price": "120.00", "currency": "EUR"})
    return workshop, design


def _deal(api: Api) -> dict[str, Any]:
    people = person(api)
    deal: dict[str, Any] = api.ok("POST", "/api/crm/deals", 201, json={
        "title": f"Relaunch {suffix()}", "company_id": people["company"]["id"], "contact_id": people["contact"]["id"],
        "amount": "1000.00", "currency": "EUR"})
    deal["contact"] = people["contact"]
    return deal


def _valid_until(days: int = 30) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _quote(api: Api, deal: dict[str, Any], **extra: Any) -> dict[str, Any]:
    workshop, design = _catalogue(api)
    body = {"lines": [{"catalogue_item_id": workshop["id"]},
                      {"catalogue_item_id": design["id"], "quantity": "75"}],
            "discount_percent": "10", "tax": {"rate_id": str(uuid.uuid4()), "name": "VAT", "percent": "19"},
            "valid_until": _valid_until(),
            "billing": {"type": "fixed", "installments": 2, "interval": "month",
                        "start_date": date.today().isoformat()}, **extra}
    quote: dict[str, Any] = api.ok("POST", f"/api/crm/deals/{deal['id']}/quotes", 201, json=body)
    return quote


def _send(stack: Stack, api: Api, quote: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Send the quote; the link as the client's mail (the .eml the SMTP server kept) carries it: the gateway path."""
    sent = api.ok("POST", f"/api/crm/quotes/{quote['id']}/send", json={"message": "As discussed on Monday."})
    mail = wait_mail_status(api, sent["mail_id"])
    message = delivered(stack, mail["message_id"])
    text, html = parts(message)
    found = LINK.search(text)
    assert found is not None, text
    assert html is not None and found.group(0) in html
    return sent, urlsplit(found.group(0)).path


def test_a_quote_is_priced_from_the_catalogue_with_discount_and_tax(seller: Api) -> None:
    deal = _deal(seller)
    quote = _quote(seller, deal)
    assert (quote["revision"], quote["status"], quote["latest"], quote["currency"]) == (1, "draft", True, "EUR")
    lines = [(li["description"].split(" ")[0], li["kind"], li["unit"], li["quantity"], li["unit_price"],
              li["amount"]) for li in quote["lines"]]
    assert lines == [("Discovery", "fixed", "fixed", "1.00", "3000.00", "3000.00"),
                     ("Design", "hourly", "hours", "75.00", "120.00", "9000.00")]
    assert (quote["subtotal"], quote["discount_total"], quote["net_total"], quote["tax_total"], quote["total"]) == (
        "12000.00", "1200.00", "10800.00", "2052.00", "12852.00")
    changed = seller.ok("PATCH", f"/api/crm/quotes/{quote['id']}", json={"discount_percent": "0", "tax": None})
    assert (changed["net_total"], changed["tax_total"], changed["total"], changed["tax_name"]) == (
        "12000.00", "0.00", "12000.00", None)
    assert seller.ok("GET", f"/api/crm/deals/{deal['id']}/quotes")[0]["id"] == quote["id"]


def test_bad_quotes_are_refused_precisely(seller: Api) -> None:
    deal = _deal(seller)
    base = {"valid_until": _valid_until()}
    cases = [
        ({**base, "lines": []}, 422),
        ({**base, "lines": [{"description": "Typed", "kind": "fixed", "unit_price": 10.5}]}, 422),  # money as float
        ({**base, "lines": [{"description": "No price", "kind": "fixed"}]}, 422),
        ({**base, "lines": [{"catalogue_item_id": str(uuid.uuid4())}]}, 422),
        ({**base, "lines": [{"description": "x", "kind": "fixed", "unit_price": "1.005"}]}, 422),  # below a cent
        ({**base, "lines": [{"description": "x", "kind": "fixed", "unit_price": "1.00"}], "discount_percent": "101"},
         422),
        ({"lines": [{"description": "x", "kind": "fixed", "unit_price": "1.00"}]}, 422),  # no validity date
    ]
    for body, status in cases:
        response = seller.post(f"/api/crm/deals/{deal['id']}/quotes", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert seller.post(f"/api/crm/deals/{uuid.uuid4()}/quotes", json={
        **base, "lines": [{"description": "x", "kind": "fixed", "unit_price": "1.00"}]}).status_code == 404
    assert seller.get(f"/api/crm/quotes/{uuid.uuid4()}").status_code == 404
    usd = seller.ok("POST", "/api/crm/quote-catalogue", 201, json={
        "name": f"US audit {suffix()}", "kind": "fixed", "unit_price": "500.00", "currency": "USD"})
    mismatch = seller.post(f"/api/crm/deals/{deal['id']}/quotes", json={
        **base, "lines": [{"catalogue_item_id": usd["id"]}]})
    assert (mismatch.status_code, mismatch.json()["type"].rsplit("/", 1)[1]) == (422, "currency-mismatch")
    # Without billing terms (none on the deal either) a quote cannot be sent: acceptance would fail to win the deal.
    quote = seller.ok("POST", f"/api/crm/deals/{deal['id']}/quotes", 201, json={
        **base, "lines": [{"description": "Audit", "kind": "fixed", "unit_price": "800.00"}]})
    unsent = seller.post(f"/api/crm/quotes/{quote['id']}/send", json={})
    assert (unsent.status_code, unsent.json()["type"].rsplit("/", 1)[1]) == (422, "billing-terms-required")


def test_links_forged_altered_expired_or_superseded_change_nothing(stack: Stack, seller: Api) -> None:
    deal = _deal(seller)
    first = _quote(seller, deal)
    _, path = _send(stack, seller, first)
    token = path.rsplit("/", 1)[1]
    with public(stack) as client:
        page = client.get(path)
        assert page.status_code == 200 and "Accept the quote" in page.text
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script at all
        pdf = client.get(f"{path}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        # Altered (one character changed), forged (a token of our own making), another purpose: 403.
        altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        for bad in (altered, "Zm9yZ2VkLXRva2VuLXRoYXQtaXMtbG9uZy1lbm91Z2g"):
            assert client.get(f"/api/crm/public-quotes/{bad}").status_code == 403
            assert client.post(f"/api/crm/public-quotes/{bad}/accept", data={"name": "Mallory"}).status_code == 403
        signer = _signer(stack)
        unsubscribe = signer.sign("unsubscribe", uuid.UUID(first["id"]), timedelta(days=1))
        assert client.post(f"/api/crm/public-quotes/{unsubscribe}/accept", data={"name": "M"}).status_code == 403
        # Expired (signed for this quote, already past its time): 410.
        expired = signer.sign("quote", uuid.UUID(first["id"]), timedelta(seconds=-1))
        assert client.get(f"/api/crm/public-quotes/{expired}").status_code == 410
        assert client.post(f"/api/crm/public-quotes/{expired}/accept", data={"name": "Jana"}).status_code == 410
        # A newer revision supersedes the one sent: its link can no longer accept (409), nor decline.
        second = _quote(seller, deal)
        assert second["revision"] == 2
        assert seller.ok("GET", f"/api/crm/quotes/{first['id']}")["status"] == "superseded"
        refused = client.post(f"{path}/accept", data={"name": "Jana Novak"})
        assert refused.status_code == 409 and "newer revision" in refused.text
        assert client.post(f"{path}/decline", data={"reason": "too late"}).status_code == 409
        assert "can no longer be accepted" in client.get(path).text
        # A missing name is refused, changing nothing.
        _, latest_path = _send(stack, seller, second)
        assert client.post(f"{latest_path}/accept", data={"name": "  "}).status_code == 422
    assert seller.ok("GET", f"/api/crm/deals/{deal['id']}")["status"] == "open"
    assert [q["status"] for q in seller.ok("GET", f"/api/crm/deals/{deal['id']}/quotes")] == ["sent", "superseded"]
    assert "quote.accepted" not in [e["event_type"] for e in outbox_envelopes(stack, deal["id"])]


def _signer(stack: Stack) -> Any:
    from throughline_platform.mail.links import LinkSigner

    return LinkSigner(stack.link_secrets()["CRM_LINK_SECRET"])


def test_a_declined_quote_leaves_the_deal_open(stack: Stack, seller: Api) -> None:
    deal = _deal(seller)
    quote = _quote(seller, deal)
    _, path = _send(stack, seller, quote)
    with public(stack) as client:
        answer = client.post(f"{path}/decline", data={"reason": "The budget is lower this year."})
        assert answer.status_code == 200 and "declined" in answer.text
        assert client.post(f"{path}/accept", data={"name": "Jana"}).status_code == 409  # answered already
    declined = seller.ok("GET", f"/api/crm/quotes/{quote['id']}")
    assert (declined["status"], declined["decline_reason"]) == ("declined", "The budget is lower this year.")
    assert seller.ok("GET", f"/api/crm/deals/{deal['id']}")["status"] == "open"
    events = [e for e in outbox_envelopes(stack, deal["id"]) if e["event_type"].startswith("quote.")]
    assert [e["event_type"] for e in events] == ["quote.sent", "quote.declined"]
    assert events[1]["data"]["reason"] == "The budget is lower this year."


def test_acceptance_wins_the_deal_and_the_erp_project_gets_the_lines(stack: Stack, seller: Api) -> None:
    deal = _deal(seller)
    start = date.today() - timedelta(days=45)  # both monthly installments are due today
    quote = _quote(seller, deal, billing={"type": "fixed", "installments": 2, "interval": "month",
                                          "start_date": start.isoformat()})
    sent, path = _send(stack, seller, quote)
    assert sent["quote"]["status"] == "sent" and sent["preview_url"].endswith("/preview")
    preview = seller.get(sent["preview_url"])
    assert preview.status_code == 200 and quote["title"] in preview.text
    with public(stack) as client:
        answer = client.post(f"{path}/accept", data={"name": "Jana Novak"}, headers={"X-Forwarded-For": "6.6.6.6"})
        assert answer.status_code == 200 and "Thank you, Jana Novak" in answer.text
        again = client.post(f"{path}/accept", data={"name": "Jana Novak"})
        assert again.status_code == 409
    accepted = seller.ok("GET", f"/api/crm/quotes/{quote['id']}")
    assert (accepted["status"], accepted["accepted_name"]) == ("accepted", "Jana Novak")
    # The address the gateway settled on: the test connects from 127.0.0.1, a proxy the gateway trusts
    # (FORWARDED_ALLOW_IPS), so the client it names is the caller; the gateway passes that on, and only that.
    assert accepted["accepted_ip"] == "6.6.6.6"
    won = seller.ok("GET", f"/api/crm/deals/{deal['id']}")
    assert (won["status"], won["amount"], won["billing"]["type"]) == ("won", "10800.00", "fixed")
    events = [e for e in outbox_envelopes(stack, deal["id"])
              if e["event_type"] in ("quote.sent", "quote.accepted", "deal.won")]
    assert [e["event_type"] for e in events] == ["quote.sent", "quote.accepted", "deal.won"]
    lines = events[2]["data"]["lines"]
    assert [(li["quantity"], li["unit"], li["unit_price"], li["amount"]) for li in lines] == [
        ("1", "fixed", "3000.00", "3000.00"), ("75", "hours", "120.00", "9000.00")]
    project = seller.project_of(deal["id"], timeout=30)
    assert project["budget_amount"] == "10800.00"
    budget = seller.ok("GET", f"/api/erp/projects/{project['id']}/budget-lines")
    assert [(b["description"], b["amount"]) for b in budget] == [(li["description"], li["amount"]) for li in lines]
    with as_role(stack, "finance", via_gateway=True) as finance:
        run = finance.ok("POST", "/api/erp/billing-runs", 201, json={
            "as_of": date.today().isoformat(), "project_id": project["id"], "issue": False})
    assert run["invoices_created"] == 2
    invoice_lines = [line for invoice in run["invoices"] for line in invoice["lines"]]
    assert len(invoice_lines) == 4 and sum(money(li["net_amount"]) for li in invoice_lines) == money("10800.00")
    for line in invoice_lines:  # every line names a quote line; each item is spread over them
        assert any(line["description"].endswith(f" - {li['description']}") for li in lines), line["description"]


def test_two_acceptances_at_once_win_the_deal_once(stack: Stack, seller: Api) -> None:
    deal = _deal(seller)
    _, path = _send(stack, seller, _quote(seller, deal))

    def accept(n: int) -> int:
        with public(stack) as client:
            return client.post(f"{path}/accept", data={"name": f"Signer {n}"},
                               headers={"X-Forwarded-For": f"10.0.0.{n + 1}"}).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(accept, range(4)))
    assert statuses == [200, 409, 409, 409]
    won = [e for e in outbox_envelopes(stack, deal["id"]) if e["event_type"] in ("quote.accepted", "deal.won")]
    assert [e["event_type"] for e in won] == ["quote.accepted", "deal.won"]
