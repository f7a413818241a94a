"""Capture keys and website forms: a key that can only capture, form posts answered for a browser, CORS for the
key's origins only, one lead per submission; and the lead and deal fixes of issue 24 (message kept on conversion,
bounded close dates)."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from devstack.stack import Stack
from tests.crm.helpers import as_role, crm_direct, new_lead, suffix
from tests.support import Api

SITE = "https://www.shop-example.test"


def new_key(sales: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": f"Website form {suffix()}", "allowed_origins": [SITE], **fields}
    key: dict[str, Any] = sales.ok("POST", "/api/crm/capture-keys", 201, json=body)
    return key


def form_fields(key: str, **extra: str) -> dict[str, str]:
    s = suffix()
    return {"capture_key": key, "first_name": "Grace", "last_name": f"Hopper {s}", "email": f"grace-{s}@navy.example",
            "company_name": f"Navy {s}", "message": "We would like a quote for a new intranet.", **extra}


def test_a_key_is_shown_once_stored_hashed_and_can_only_capture(stack: Stack, sales: Api, viewer: Api) -> None:
    key = new_key(sales, allowed_origins=[SITE, "HTTPS://Other.Example.test", SITE])
    assert key["key"].startswith("tlc_") and key["key"].startswith(key["prefix"])
    assert key["allowed_origins"] == ["https://other.example.test", SITE]
    listed = next(k for k in sales.ok("GET", "/api/crm/capture-keys") if k["id"] == key["id"])
    assert "key" not in listed and listed["prefix"] == key["prefix"]
    assert stack.postgres is not None
    stored = stack.postgres.psql("crm", f"SELECT key_hash FROM capture_keys WHERE id = '{key['id']}'").strip()
    assert len(stored) == 64 and key["key"] not in stored
    # Viewers read the keys' names, but cannot make one; a key is no token for anything else.
    assert viewer.post("/api/crm/capture-keys", json={"name": "x"}).status_code == 403
    with crm_direct(stack) as anyone:
        for path in ("/api/crm/leads", "/api/crm/companies"):
            assert anyone.get(path, headers={"X-API-Key": key["key"]}).status_code == 401
            assert anyone.get(path, headers={"Authorization": f"Bearer {key['key']}"}).status_code == 401


def test_origins_are_checked_and_normalised(sales: Api) -> None:
    bad = sales.post("/api/crm/capture-keys", json={"name": "x", "allowed_origins": ["https://shop.test/contact"]})
    assert bad.status_code == 422  # an origin has no path
    key = new_key(sales, allowed_origins=["HTTPS://WWW.Shop-Example.test"])
    assert key["allowed_origins"] == [SITE]
    assert sales.post("/api/crm/capture-keys", json={"name": "x", "thank_you_url": "javascript:alert(1)"}
                      ).status_code == 422


def test_a_form_post_makes_a_lead_and_thanks_the_visitor(stack: Stack, sales: Api) -> None:
    key = new_key(sales)
    fields = form_fields(key["key"], submission_id=uuid.uuid4().hex, csrf_token="the site's own field")
    with crm_direct(stack) as browser:
        answer = browser.post("/api/crm/lead-capture", data=fields, headers={"Origin": SITE})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html") and "Thank you" in answer.text
    assert answer.headers["access-control-allow-origin"] == SITE
    leads = sales.ok("GET", "/api/crm/leads", params={"q": fields["email"]})["items"]
    assert len(leads) == 1
    lead = leads[0]
    assert lead["source"] == "website" and lead["message"] == fields["message"] and lead["status"] == "new"

    # With a thank-you page, the browser is sent there.
    thanked = new_key(sales, thank_you_url="https://www.shop-example.test/thanks")
    with crm_direct(stack) as browser:
        redirected = browser.post("/api/crm/lead-capture", data=form_fields(thanked["key"]), headers={"Origin": SITE})
    assert redirected.status_code == 303 and redirected.headers["location"] == "https://www.shop-example.test/thanks"


def test_form_errors_are_pages_and_refused_origins_and_keys_make_nothing(stack: Stack, sales: Api) -> None:
    key = new_key(sales)
    with crm_direct(stack) as browser:
        invalid = browser.post("/api/crm/lead-capture", data=form_fields(key["key"], email="not-an-email"),
                               headers={"Origin": SITE})
        assert invalid.status_code == 422 and invalid.headers["content-type"].startswith("text/html")
        assert "email" in invalid.text and "Please check the form" in invalid.text
        elsewhere = form_fields(key["key"])
        refused = browser.post("/api/crm/lead-capture", data=elsewhere, headers={"Origin": "https://evil.test"})
        assert refused.status_code == 403 and "evil.test" in refused.text
        assert "access-control-allow-origin" not in refused.headers
        unknown = browser.post("/api/crm/lead-capture", data=form_fields("tlc_not-a-key"), headers={"Origin": SITE})
        assert unknown.status_code == 401
        # A server (no Origin) may post with the key: JSON, the key in the header.
        body = {k: v for k, v in form_fields("").items() if k != "capture_key"}
        accepted = browser.post("/api/crm/lead-capture", json=body, headers={"X-API-Key": key["key"]})
        assert accepted.status_code == 202 and accepted.json()["duplicate"] is False
        unsupported = browser.post("/api/crm/lead-capture", content=b"<lead/>",
                                   headers={"X-API-Key": key["key"], "Content-Type": "application/xml"})
        assert unsupported.status_code == 415
    assert sales.ok("GET", "/api/crm/leads", params={"q": elsewhere["email"]})["total"] == 0

    assert sales.client.delete(f"/api/crm/capture-keys/{key['id']}").status_code == 204
    with crm_direct(stack) as browser:
        revoked = browser.post("/api/crm/lead-capture", data=form_fields(key["key"]), headers={"Origin": SITE})
    assert revoked.status_code == 401
    listed = next(k for k in sales.ok("GET", "/api/crm/capture-keys") if k["id"] == key["id"])
    assert listed["revoked_at"] is not None
    assert sales.client.patch(f"/api/crm/capture-keys/{key['id']}", json={"name": "again"}).status_code == 404


def test_cors_preflight_answers_only_allowed_origins(stack: Stack, sales: Api) -> None:
    origin = f"https://site-{suffix()}.test"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-api-key"}
    with crm_direct(stack) as browser:
        before = browser.options("/api/crm/lead-capture", headers={"Origin": origin, **preflight})
        assert before.status_code == 403 and "access-control-allow-origin" not in before.headers
        key = new_key(sales, allowed_origins=[origin])
        allowed = browser.options("/api/crm/lead-capture", headers={"Origin": origin, **preflight})
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == origin
        assert "x-api-key" in allowed.headers["access-control-allow-headers"]
        assert "POST" in allowed.headers["access-control-allow-methods"]
        sales.ok("PATCH", f"/api/crm/capture-keys/{key['id']}", json={"allowed_origins": []})
        after = browser.options("/api/crm/lead-capture", headers={"Origin": origin, **preflight})
        assert after.status_code == 403


def test_one_submission_makes_one_lead_even_when_posted_twice_at_once(stack: Stack, sales: Api) -> None:
    key = new_key(sales)
    fields = form_fields(key["key"], submission_id=str(uuid.uuid4()))

    def post(_: int) -> httpx.Response:
        with crm_direct(stack) as browser:
            return browser.post("/api/crm/lead-capture", data=fields, headers={"Origin": SITE})

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert sales.ok("GET", "/api/crm/leads", params={"q": fields["email"]})["total"] == 1
    first = sales.ok("GET", "/api/crm/leads", params={"q": fields["email"]})["items"][0]
    # JSON says which post was the repeat; another submission id is another lead.
    body = {k: v for k, v in fields.items() if k != "capture_key"}
    with crm_direct(stack) as server:
        again = server.post("/api/crm/lead-capture", json=body, headers={"X-API-Key": key["key"]})
        other = server.post("/api/crm/lead-capture", json={**body, "submission_id": str(uuid.uuid4())},
                            headers={"X-API-Key": key["key"]})
    assert again.status_code == 202 and again.json() == {"id": first["id"], "status": "new", "duplicate": True}
    assert other.status_code == 202 and other.json()["id"] != first["id"]
    assert sales.ok("GET", "/api/crm/leads", params={"q": fields["email"]})["total"] == 2


def test_conversion_keeps_the_message_on_the_timelines(sales: Api) -> None:
    message = f"We need a booking system before the summer season {suffix()}."
    lead = new_lead(sales, message=message)
    converted = sales.ok("POST", f"/api/crm/leads/{lead['id']}/convert",
                         json={"deal": {"amount": "5000", "currency": "EUR"}})
    for path in (f"/api/crm/deals/{converted['deal_id']}/timeline",
                 f"/api/crm/contacts/{converted['contact_id']}/timeline",
                 f"/api/crm/companies/{converted['company_id']}/timeline"):
        notes = [e for e in sales.ok("GET", path)["items"] if e["type"] == "activity" and e["kind"] == "note"]
        assert len(notes) == 1, path
        assert notes[0]["data"]["body"] == message
    lead_notes = sales.ok("GET", "/api/crm/activities", params={"lead_id": lead["id"]})["items"]
    assert [a["body"] for a in lead_notes] == [message]
    # Converting again adds nothing.
    sales.ok("POST", f"/api/crm/leads/{lead['id']}/convert")
    assert len(sales.ok("GET", "/api/crm/activities", params={"lead_id": lead["id"]})["items"]) == 1
    # No message, no note.
    quiet = new_lead(sales)
    sales.ok("POST", f"/api/crm/leads/{quiet['id']}/convert")
    assert sales.ok("GET", "/api/crm/activities", params={"lead_id": quiet["id"]})["items"] == []


def test_expected_close_dates_stay_within_reach(stack: Stack, sales: Api) -> None:
    company = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Dates {suffix()}"})
    base = {"title": "Dated", "company_id": company["id"], "amount": "100", "currency": "EUR"}
    # One rule for every business date in a request (throughline_events.types.BusinessDate): 2000-01-01..2100-12-31.
    for bad in ("0226-05-01", "9999-12-31", "1999-12-31", "2101-01-01"):
        response = sales.post("/api/crm/deals", json={**base, "expected_close_date": bad})
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"].endswith("expected_close_date"), response.text
        assert "dates lie between 2000-01-01 and 2100-12-31" in response.text
    deal = sales.ok("POST", "/api/crm/deals", 201, json={**base, "expected_close_date": "2100-12-31"})
    assert sales.client.patch(f"/api/crm/deals/{deal['id']}", json={"expected_close_date": "9999-01-01"}
                              ).status_code == 422
    assert sales.ok("PATCH", f"/api/crm/deals/{deal['id']}", json={"expected_close_date": "2000-01-01"}
                    )["expected_close_date"] == "2000-01-01"
    lead = new_lead(sales)
    refused = sales.post(f"/api/crm/leads/{lead['id']}/convert",
                         json={"deal": {"amount": "1", "currency": "EUR", "expected_close_date": "0226-01-01"}})
    assert refused.status_code == 422


def test_only_sales_and_admin_manage_keys(stack: Stack) -> None:
    for role, allowed in (("admin", True), ("sales", True), ("finance", False), ("project_manager", False)):
        with as_role(stack, role) as api:
            response = api.post("/api/crm/capture-keys", json={"name": f"{role} form"})
        assert (response.status_code == 201) is allowed, (role, response.text)
