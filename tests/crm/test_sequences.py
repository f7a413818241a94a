"""Sequences (issue 25): ordered mail and task steps with delays in business days, enrolled by hand or by an
automation rule, each step once; stopped by a reply, an unsubscribe, the deal won or lost, or by hand; a daily limit
per sender and a send window in the contact's time zone. Unsubscribe links and consent; inbound mail."""

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from devstack.stack import Stack
from tests.crm.helpers import DAILY_LIMIT, INBOUND_SECRET, as_role, crm_direct, outbox_envelopes, suffix
from tests.crm.mail_support import delivered, parts, person, template
from tests.support import Api, fixed_terms, wait_for
from throughline_platform.mail.links import LinkSigner

ALL_DAY = {"window_start_hour": 0, "window_end_hour": 24, "business_days_only": False}


def sequence(api: Api, steps: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    created: dict[str, Any] = api.ok("POST", "/api/crm/sequences", 201, json={
        "name": f"Sequence {uuid.uuid4().hex[:8]}", **ALL_DAY, "steps": steps, **fields})
    return created


def mail_step(api: Api, delay: int = 0, **template_fields: Any) -> dict[str, Any]:
    return {"kind": "email", "delay_days": delay, "template_id": template(api, **template_fields)["id"]}


def enrolment(api: Api, enrolment_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.ok("GET", f"/api/crm/enrolments/{enrolment_id}")
    return found


def wait_enrolment(api: Api, enrolment_id: str, probe: Any, what: str, timeout: float = 30) -> dict[str, Any]:
    return wait_for(lambda: (lambda e: e if probe(e) else None)(enrolment(api, enrolment_id)), timeout, what,
                    interval=0.2)


def statuses(found: dict[str, Any]) -> list[str]:
    return [step["status"] for step in found["steps"]]


def sender(stack: Stack) -> Api:
    """A sales user of its own: its own name on the mail, its own daily limit."""
    return as_role(stack, "sales", user_id=f"seller-{suffix()}")


def test_two_mail_steps_and_a_task_go_out_in_order_once_each(stack: Stack) -> None:
    with sender(stack) as api:
        api.ok("PUT", "/api/crm/mail-senders/me", json={"name": "Sam Seller"})
        people = person(api)
        contact = people["contact"]
        seq = sequence(api, [mail_step(api, subject="First for {{ contact.first_name }}"),
                             {"kind": "task", "task_title": "Call Jana", "task_due_in_hours": 2},
                             mail_step(api, subject="Second from {{ owner.name }}")])
        enrolled = api.ok("POST", f"/api/crm/sequences/{seq['id']}/enrolments", 201,
                          json={"contact_id": contact["id"]})
        assert enrolled["status"] == "active" and enrolled["steps"][0]["status"] in ("due", "queued", "sent")
        done = wait_enrolment(api, enrolled["id"], lambda e: e["status"] == "completed" and all(
            s in ("sent", "task_created") for s in statuses(e)), "the sequence completed")
        assert statuses(done) == ["sent", "task_created", "sent"]
        mails = api.ok("GET", "/api/crm/mails", params={"enrolment_id": enrolled["id"]})["items"]
        assert sorted(m["step_position"] for m in mails) == [1, 3]
        by_step = {m["step_position"]: m for m in mails}
        first, second = (delivered(stack, by_step[n]["message_id"]) for n in (1, 3))
        assert first["Subject"] == "First for Jana"
        assert second["Subject"] == "Second from Sam Seller"
        assert "Sam Seller" in str(second["From"])
        for message in (first, second):
            url = str(message["List-Unsubscribe"]).strip("<>")
            assert url.startswith("http") and "/api/crm/unsubscribe/" in url
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            text, html = parts(message)
            assert url in text and html is not None and "unsubscribe" in html
        task = next(t for t in api.ok("GET", "/api/crm/tasks", params={"contact_id": contact["id"]})["items"])
        assert task["title"] == "Call Jana"
        assert sequence_view(api, seq["id"])["enrolments"] == {"completed": 1}


def sequence_view(api: Api, sequence_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.ok("GET", f"/api/crm/sequences/{sequence_id}")
    return found


def test_enrolling_twice_or_someone_unsubscribed_is_refused(stack: Stack) -> None:
    with sender(stack) as api:
        people = person(api)
        seq = sequence(api, [mail_step(api), mail_step(api, delay=3)])
        api.ok("POST", f"/api/crm/sequences/{seq['id']}/enrolments", 201, json={"contact_id": people["contact"]["id"]})
        again = api.post(f"/api/crm/sequences/{seq['id']}/enrolments", json={"contact_id": people["contact"]["id"]})
        assert (again.status_code, again.json()["type"].rsplit("/", 1)[1]) == (409, "already-enrolled")
        consent = api.ok("PUT", f"/api/crm/contacts/{people['contact']['id']}/consent",
                         json={"status": "withdrawn", "source": "asked on the phone"})
        assert (consent["status"], consent["source"]) == ("withdrawn", "asked on the phone")
        other = sequence(api, [mail_step(api)])
        refused = api.post(f"/api/crm/sequences/{other['id']}/enrolments", json={"contact_id": people["contact"]["id"]})
        assert (refused.status_code, refused.json()["type"].rsplit("/", 1)[1]) == (409, "unsubscribed")
        # Withdrawing stopped the first enrolment at once.
        stopped = api.ok("GET", "/api/crm/enrolments", params={"contact_id": people["contact"]["id"]})["items"]
        assert [(e["status"], e["stop_reason"]) for e in stopped] == [("stopped", "unsubscribed")]
        bad = api.post(f"/api/crm/sequences/{seq['id']}/enrolments", json={"contact_id": people["contact"]["id"],
                                                                           "lead_id": str(uuid.uuid4())})
        assert bad.status_code == 422


def test_the_unsubscribe_link_is_one_click_signed_and_stops_every_sequence(stack: Stack) -> None:
    gateway = f"http://127.0.0.1:{stack.ports.gateway}"
    with sender(stack) as api, httpx.Client(base_url=gateway, timeout=15) as anonymous:
        people = person(api)
        contact = people["contact"]
        first = sequence(api, [mail_step(api), mail_step(api, delay=5)])
        second = sequence(api, [mail_step(api, delay=2)])
        enrolled = api.ok("POST", f"/api/crm/sequences/{first['id']}/enrolments", 201,
                          json={"contact_id": contact["id"]})
        api.ok("POST", f"/api/crm/sequences/{second['id']}/enrolments", 201, json={"contact_id": contact["id"]})
        step = wait_enrolment(api, enrolled["id"], lambda e: e["steps"][0]["status"] == "sent", "step 1 sent")
        mail = api.ok("GET", f"/api/crm/mails/{step['steps'][0]['mail_id']}")
        message = delivered(stack, mail["message_id"])
        url = str(message["List-Unsubscribe"]).strip("<>")
        path = url.split("://", 1)[1].split("/", 1)[1]
        token = path.rsplit("/", 1)[1]

        # Forged, altered, another purpose, expired: 403/410 and nothing changes.
        altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        signer = LinkSigner(stack.link_secrets()["CRM_LINK_SECRET"])
        other_purpose = signer.sign("invoice-page", uuid.UUID(mail["id"]), timedelta(days=1))
        expired = signer.sign("unsubscribe", uuid.UUID(mail["id"]), datetime.now(UTC) - timedelta(seconds=1))
        for bad, status in ((altered, 403), (other_purpose, 403), ("x" * 76, 403), (expired, 410)):
            for method in ("GET", "POST"):
                answer = anonymous.request(method, f"/api/crm/unsubscribe/{bad}",
                                           data={"List-Unsubscribe": "One-Click"})
                assert answer.status_code == status, (bad, method, answer.text[:200])
                assert "Nothing was changed" in answer.text
        assert api.ok("GET", f"/api/crm/contacts/{contact['id']}/consent")["status"] == "unknown"
        assert enrolment(api, enrolled["id"])["status"] == "active"

        # GET shows a confirmation page and changes nothing (link scanners follow links).
        page = anonymous.get(f"/{path}")
        assert page.status_code == 200 and "<form method=\"post\">" in page.text
        assert "form-action 'self'" in page.headers["content-security-policy"]
        assert enrolment(api, enrolled["id"])["status"] == "active"
        # RFC 8058 one-click: a POST of List-Unsubscribe=One-Click, no login.
        done = anonymous.post(f"/{path}", data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "unsubscribed" in done.text
        consent = api.ok("GET", f"/api/crm/contacts/{contact['id']}/consent")
        assert consent["status"] == "withdrawn" and "one-click" in consent["source"]
        stopped = api.ok("GET", "/api/crm/enrolments", params={"contact_id": contact["id"]})["items"]
        assert sorted((e["status"], e["stop_reason"]) for e in stopped) == [("stopped", "unsubscribed")] * 2
        # A second click changes nothing (the first withdrawal is kept), and no sequence mails them again.
        assert anonymous.post(f"/{path}").status_code == 200
        assert api.ok("GET", f"/api/crm/contacts/{contact['id']}/consent")["source"] == consent["source"]
        third = sequence(api, [mail_step(api)])
        assert api.post(f"/api/crm/sequences/{third['id']}/enrolments",
                        json={"contact_id": contact["id"]}).status_code == 409


def test_the_daily_limit_per_sender_holds_the_rest_until_tomorrow(stack: Stack) -> None:
    with sender(stack) as api:
        seq = sequence(api, [mail_step(api)])
        enrolled = [api.ok("POST", f"/api/crm/sequences/{seq['id']}/enrolments", 201,
                           json={"contact_id": person(api)["contact"]["id"]}) for _ in range(DAILY_LIMIT + 2)]

        def settled() -> list[dict[str, Any]] | None:
            found = [enrolment(api, e["id"]) for e in enrolled]
            done = [e for e in found if e["status"] == "completed"]
            waiting = [e for e in found if e["waiting_reason"]]
            return found if len(done) == DAILY_LIMIT and len(waiting) == 2 else None

        found = wait_for(settled, 30, "the limit reached", interval=0.3)
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
        for waiting in (e for e in found if e["status"] == "active"):
            assert "daily limit" in waiting["waiting_reason"]
            assert datetime.fromisoformat(waiting["next_due_at"]).astimezone(UTC).date() == tomorrow
            assert waiting["steps"][0]["status"] == "scheduled"


def test_a_step_outside_the_send_window_waits_for_it_in_the_contacts_time_zone(stack: Stack) -> None:
    with sender(stack) as api:
        people = person(api, time_zone="Asia/Tokyo")
        tokyo = ZoneInfo("Asia/Tokyo")
        hour = datetime.now(tokyo).hour
        start = (hour + 3) % 24  # a two-hour window starting three hours from now, Tokyo time
        window = {"window_start_hour": min(start, 22), "window_end_hour": min(start, 22) + 2,
                  "business_days_only": False}
        seq = sequence(api, [mail_step(api)], **window)
        api.ok("PATCH", f"/api/crm/contacts/{people['contact']['id']}", json={"time_zone": "Asia/Tokyo"})
        enrolled = api.ok("POST", f"/api/crm/sequences/{seq['id']}/enrolments", 201,
                          json={"contact_id": people["contact"]["id"]})
        due = datetime.fromisoformat(enrolled["next_due_at"]).astimezone(tokyo)
        assert (due.hour, due.minute) == (window["window_start_hour"], 0)
        assert due > datetime.now(tokyo)
        assert enrolled["steps"][0]["status"] == "scheduled"
        refused = api.post("/api/crm/contacts", json={"first_name": "X", "time_zone": "Mars/Olympus"})
        assert refused.status_code == 422


def test_business_day_delays_skip_weekends_and_the_companys_holidays(stack: Stack) -> None:
    with sender(stack) as api:
        people = person(api, country="DE", time_zone="Europe/Berlin")
        seq = sequence(api, [mail_step(api, delay=3)], window_start_hour=9, window_end_hour=17,
                       business_days_only=True)
        enrolled = api.ok("POST", f"/api/crm/sequences/{seq['id']}/enrolments", 201,
                          json={"contact_id": people["contact"]["id"]})
        due = datetime.fromisoformat(enrolled["next_due_at"]).astimezone(ZoneInfo("Europe/Berlin"))
        import holidays

        german = holidays.country_holidays("DE", years=range(due.year - 1, due.year + 1))
        assert due.weekday() < 5 and due.date() not in german
        assert 9 <= due.hour < 17
        now = datetime.now(ZoneInfo("Europe/Berlin"))
        today = now.date()
        business_days = sum(1 for n in range(1, (due.date() - today).days + 1)
                            if (today + timedelta(days=n)).weekday() < 5
                            and today + timedelta(days=n) not in german)
        # Three send days on at the same time of day, moved into the window: enrolled after it closed (17:00 in
        # Berlin), the step goes at the next send day's opening, one business day later (a test run after 16:00 UTC
        # saw 4 and failed while the product was right).
        assert business_days == (4 if now.hour >= 17 else 3), (now, due)


def test_an_automation_rule_enrols_a_deals_contact_and_winning_the_deal_stops_it(stack: Stack) -> None:
    with sender(stack) as api:
        people = person(api)
        seq = sequence(api, [mail_step(api), mail_step(api, delay=10)])
        pipeline = next(p for p in api.ok("GET", "/api/crm/pipelines") if p["is_default"])
        stage = pipeline["stages"][1]
        rule = api.ok("POST", "/api/crm/automation-rules", 201, json={
            "name": f"Nurture {suffix()}", "trigger": "stage_entered", "stage_id": stage["id"],
            "actions": [{"type": "enrol_in_sequence", "sequence_id": seq["id"]}]})
        deal = api.ok("POST", "/api/crm/deals", 201, json={
            "title": f"Deal {suffix()}", "company_id": people["company"]["id"], "contact_id": people["contact"]["id"],
            "amount": "1000.00", "currency": "EUR"})
        api.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": stage["id"]})
        found = wait_for(lambda: api.ok("GET", "/api/crm/enrolments", params={"deal_id": deal["id"]})["items"] or None,
                         10, "enrolled by the rule")
        assert (found[0]["enrolled_via"], found[0]["contact_id"]) == ("automation", people["contact"]["id"])
        first = wait_enrolment(api, found[0]["id"], lambda e: e["steps"][0]["status"] == "sent", "step 1 sent")
        assert first["steps"][1]["status"] == "scheduled"
        api.ok("POST", f"/api/crm/deals/{deal['id']}/win", json={"billing": fixed_terms(1)})
        stopped = wait_enrolment(api, found[0]["id"], lambda e: e["status"] == "stopped", "stopped by the win")
        assert stopped["stop_reason"] == "deal_won"
        assert statuses(stopped) == ["sent", "not_run"]
        unknown = api.post("/api/crm/automation-rules", json={
            "name": "x", "trigger": "lead_created",
            "actions": [{"type": "enrol_in_sequence", "sequence_id": str(uuid.uuid4())}]})
        assert unknown.status_code == 422
        assert api.client.delete(f"/api/crm/automation-rules/{rule['id']}").status_code == 204


def test_a_lead_created_rule_enrols_captured_leads(stack: Stack) -> None:
    with sender(stack) as api:
        seq = sequence(api, [mail_step(api, subject="Thanks {{ contact.first_name }} of {{ company.name }}")])
        rule = api.ok("POST", "/api/crm/automation-rules", 201, json={
            "name": f"Welcome {suffix()}", "trigger": "lead_created",
            "actions": [{"type": "enrol_in_sequence", "sequence_id": seq["id"]}]})
        try:
            s = suffix()
            with crm_direct(stack) as public:
                captured = public.post("/api/crm/lead-capture", headers={"X-API-Key": "crm-test-capture-key"}, json={
                    "first_name": "Lena", "email": f"lena-{s}@studio-{s}.example", "company_name": f"Studio {s}"})
            assert captured.status_code == 202
            lead_id = captured.json()["id"]
            found = wait_for(lambda: api.ok("GET", "/api/crm/enrolments", params={"lead_id": lead_id})["items"] or None,
                             10, "the lead enrolled")
            done = wait_enrolment(api, found[0]["id"], lambda e: e["status"] == "completed", "lead mailed")
            mail = api.ok("GET", f"/api/crm/mails/{done['steps'][0]['mail_id']}")
            assert delivered(stack, mail["message_id"])["Subject"] == f"Thanks Lena of Studio {s}"
        finally:
            assert api.client.delete(f"/api/crm/automation-rules/{rule['id']}").status_code == 204


def post_inbound(stack: Stack, body: dict[str, Any], *, secret: str | None = INBOUND_SECRET,
                 basic: bool = False, via_gateway: bool = True) -> httpx.Response:
    port = stack.ports.gateway if via_gateway else stack.ports.crm
    headers = {}
    if secret is not None and basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"inbound:{secret}".encode()).decode()
    elif secret is not None:
        headers["X-Inbound-Secret"] = secret
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15) as client:
        return client.post("/api/crm/inbound-mail", json=body, headers=headers)


def test_a_reply_threads_onto_the_contact_and_deal_and_stops_their_sequences(stack: Stack) -> None:
    with sender(stack) as api:
        people = person(api)
        contact = people["contact"]
        deal = api.ok("POST", "/api/crm/deals", 201, json={
            "title": f"Deal {suffix()}", "company_id": people["company"]["id"], "contact_id": contact["id"],
            "amount": "1000.00", "currency": "EUR"})
        seq = sequence(api, [mail_step(api), mail_step(api, delay=4)])
        enrolled = api.ok("POST", f"/api/crm/sequences/{seq['id']}/enrolments", 201,
                          json={"contact_id": contact["id"], "deal_id": deal["id"]})
        step = wait_enrolment(api, enrolled["id"], lambda e: e["steps"][0]["status"] == "sent", "step 1 sent")
        ours = api.ok("GET", f"/api/crm/mails/{step['steps'][0]['mail_id']}")
        reply = {"sender": f"Jana Novak <{contact['email']}>", "recipients": ["sales@throughline.example"],
                 "subject": f"Re: {ours['subject']}", "text": "Yes, let's talk.", "html": "<p>Yes</p>",
                 "message-id": f"<reply-{suffix()}@northwind.example>", "in-reply-to": ours["message_id"],
                 "attachments": [{"filename": "brief.pdf", "content_type": "application/pdf",
                                  "content": base64.b64encode(b"%PDF-1.4 brief").decode()}]}

        # A bad or missing secret: 401, nothing stored.
        for secret in ("wrong", None):
            assert post_inbound(stack, reply, secret=secret).status_code == 401
        assert api.ok("GET", "/api/crm/mails", params={"contact_id": contact["id"], "direction": "inbound"})[
            "total"] == 0
        assert enrolment(api, enrolled["id"])["status"] == "active"

        answer = post_inbound(stack, reply, basic=True)
        assert answer.status_code == 200, answer.text
        got = answer.json()
        assert (got["matched_by"], got["contact_id"], got["deal_id"], got["stopped_enrolments"]) == (
            "message_id", contact["id"], deal["id"], 1)
        stopped = enrolment(api, enrolled["id"])
        assert (stopped["status"], stopped["stop_reason"]) == ("stopped", "replied")
        stored = api.ok("GET", f"/api/crm/mails/{got['id']}")
        assert (stored["direction"], stored["status"], stored["reply_to_mail_id"]) == ("inbound", "received",
                                                                                        ours["id"])
        assert stored["attachments"][0]["filename"] == "brief.pdf" and stored["attachments"][0]["size"] == 14
        timeline = api.ok("GET", f"/api/crm/deals/{deal['id']}/timeline")["items"]
        assert any(i["type"] == "mail" and i["kind"] == "inbound" for i in timeline)
        events = [e for e in outbox_envelopes(stack, got["id"]) if e["event_type"] == "mail.reply_received"]
        assert len(events) == 1 and events[0]["data"]["reply_to_mail_id"] == ours["id"]
        # Posted again (inbound services retry): stored once.
        again = post_inbound(stack, reply).json()
        assert (again["duplicate"], again["id"]) == (True, got["id"])
        # Without threading headers, the sender's address finds the contact.
        plain = post_inbound(stack, {"sender": contact["email"], "subject": "Another thing", "text": "..."}).json()
        assert (plain["matched_by"], plain["contact_id"], plain["deal_id"]) == ("sender", contact["id"], None)


def test_mail_from_a_stranger_is_kept_unmatched_and_bad_input_refused(stack: Stack, sales: Api) -> None:
    stranger = f"who-{suffix()}@elsewhere.example"
    got = post_inbound(stack, {"sender": stranger, "subject": "Hello", "text": "Do you do websites?"},
                       via_gateway=False).json()
    assert (got["matched_by"], got["contact_id"], got["lead_id"]) == (None, None, None)
    unmatched = sales.ok("GET", "/api/crm/mails", params={"unmatched": "true", "limit": 200})["items"]
    assert got["id"] in {m["id"] for m in unmatched}
    assert post_inbound(stack, {"subject": "no sender"}).status_code == 422
    assert post_inbound(stack, {"sender": "not an address", "subject": "x"}).status_code == 422
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.crm}", timeout=15) as client:
        too_big = client.post("/api/crm/inbound-mail", headers={"X-Inbound-Secret": INBOUND_SECRET,
                                                                "Content-Type": "application/json"},
                              content=b"{" + b" " * 6_000_000 + b"}")
        assert too_big.status_code == 413
        form = client.post("/api/crm/inbound-mail", headers={"X-Inbound-Secret": INBOUND_SECRET},
                           data={"sender": stranger, "subject": "As a form", "text": "multipart"},
                           files={"attachment1": ("notes.txt", b"hello", "text/plain")})
        assert form.status_code == 200, form.text
        assert sales.ok("GET", f"/api/crm/mails/{form.json()['id']}")["attachments"][0]["sha256"]


def test_the_contacts_consent_and_its_source(stack: Stack, sales: Api) -> None:
    contact = person(sales)["contact"]
    assert sales.ok("GET", f"/api/crm/contacts/{contact['id']}/consent")["status"] == "unknown"
    given = sales.ok("PUT", f"/api/crm/contacts/{contact['id']}/consent",
                     json={"status": "given", "source": "signed up at the fair"})
    assert (given["status"], given["source"], given["changed_by"]) == ("given", "signed up at the fair", "sales-1")
    with as_role(stack, "viewer") as viewer:
        assert viewer.ok("GET", f"/api/crm/contacts/{contact['id']}/consent")["status"] == "given"
        assert viewer.client.put(f"/api/crm/contacts/{contact['id']}/consent",
                          json={"status": "withdrawn", "source": "x"}).status_code == 403
    assert sales.client.put(f"/api/crm/contacts/{contact['id']}/consent",
                     json={"status": "maybe", "source": "x"}).status_code == 422


def test_sequence_input_is_checked(sales: Api) -> None:
    bad_steps = [
        [{"kind": "email"}],  # no template
        [{"kind": "task"}],  # no title
        [{"kind": "email", "template_id": str(uuid.uuid4())}],  # no such template
        [{"kind": "email", "template_id": template(sales)["id"], "delay_days": 400}],
    ]
    for steps in bad_steps:
        assert sales.post("/api/crm/sequences", json={"name": f"Bad {suffix()}", "steps": steps}).status_code == 422
    window = sales.post("/api/crm/sequences", json={"name": f"Bad {suffix()}", "window_start_hour": 17,
                                                    "window_end_hour": 9, "steps": [mail_step(sales)]})
    assert window.status_code == 422
    seq = sequence(sales, [mail_step(sales)])
    assert sales.post("/api/crm/sequences", json={"name": seq["name"], "steps": [mail_step(sales)]}).status_code == 409
    used = seq["steps"][0]["template_id"]
    assert sales.client.delete(f"/api/crm/mail-templates/{used}").status_code == 409
    paused = sales.ok("PATCH", f"/api/crm/sequences/{seq['id']}", json={"active": False})
    assert paused["active"] is False
    assert sales.post(f"/api/crm/sequences/{seq['id']}/enrolments",
                      json={"contact_id": person(sales)["contact"]["id"]}).status_code == 409


def test_stopping_by_hand(stack: Stack) -> None:
    with sender(stack) as api:
        seq = sequence(api, [mail_step(api, delay=2)])
        enrolled = api.ok("POST", f"/api/crm/sequences/{seq['id']}/enrolments", 201,
                          json={"contact_id": person(api)["contact"]["id"]})
        stopped = api.ok("POST", f"/api/crm/enrolments/{enrolled['id']}/stop")
        assert (stopped["status"], stopped["stop_reason"], statuses(stopped)) == ("stopped", "by_hand", ["not_run"])
        assert api.post(f"/api/crm/enrolments/{enrolled['id']}/stop").status_code == 409
