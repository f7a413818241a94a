"""The setup screens in a browser: users (invite, role, deactivate, reset), pipelines and stages, automation and
assignment rules, lead-capture keys and the form snippet posted from another website. axe-core checks each screen
and dialog."""

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api, wait_for
from tests.web.conftest import ADMIN, assert_accessible, login, other_page, settled, shot


@pytest.fixture
def admin(stack: Stack) -> Iterator[Api]:
    with Api.login(stack, *ADMIN) as api:
        yield api


def test_invite_a_user_who_sets_a_password_through_the_link(page: Page, admin: Api) -> None:
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    login(page)
    page.goto("/#/setup/users")
    page.get_by_role("button", name="Invite user").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_label("Full name").fill("Nora New")
    dialog.get_by_label("Role").select_option("finance")
    assert_accessible(page, "the invite dialog")
    dialog.get_by_role("button", name="Create the account").click()
    link = page.get_by_role("dialog").get_by_label("Set-password link", exact=True)
    expect(link).to_have_value(re.compile(r"/#/set-password\?token=\S+"))
    assert_accessible(page, "the link dialog")
    shot(page, "setup-users", full_page=False)
    url = link.input_value()
    page.get_by_role("dialog").get_by_role("button", name="Done").click()
    expect(page.locator("tr", has_text=email)).to_contain_text("Active")

    invited = other_page(page)
    invited.goto(url)
    expect(invited.get_by_role("heading", name="Choose your password")).to_be_visible()
    assert_accessible(invited, "the set-password page")
    invited.get_by_label("New password").fill("nora's own long passphrase")
    invited.get_by_label("Repeat the password").fill("nora's own long passphrase")
    invited.get_by_role("button", name="Set password and log in").click()
    expect(invited.locator("#me-email")).to_have_text(email)
    expect(invited.locator("#me-role")).to_have_text("finance")
    # The link worked once.
    spent = other_page(page)
    spent.goto(url)
    spent.get_by_label("New password").fill("someone else's passphrase")
    spent.get_by_label("Repeat the password").fill("someone else's passphrase")
    spent.get_by_role("button", name="Set password and log in").click()
    expect(spent.get_by_role("alert")).to_contain_text("This link cannot be used.")

    # Role, deactivation and a reset link, from the same screen.
    user = next(u for u in admin.ok("GET", "/api/auth/users", params={"q": email})["items"])
    page.reload()
    page.get_by_label(f"Role of {email}").select_option("project_manager")
    wait_for(lambda: admin.ok("GET", f"/api/auth/users/{user['id']}")["role"] == "project_manager" or None, 10,
             "the role change")
    page.get_by_role("button", name=f"Reset password of {email}").click()
    reset = page.get_by_role("dialog")
    expect(reset.get_by_label("How")).to_have_value("link")
    expect(reset.get_by_label("New password")).to_be_hidden()
    reset.get_by_role("button", name="Reset").click()
    expect(page.get_by_role("dialog").get_by_label("Set-password link", exact=True)).to_have_value(re.compile("token="))
    page.get_by_role("dialog").get_by_role("button", name="Done").click()
    page.get_by_role("button", name=f"Deactivate {email}").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    expect(page.locator("tr", has_text=email)).to_contain_text("Deactivated")
    assert admin.ok("GET", f"/api/auth/users/{user['id']}")["active"] is False
    page.get_by_role("button", name=f"Activate {email}").click()
    expect(page.locator("tr", has_text=email)).to_contain_text("Active")


def test_users_are_for_admins_only(page: Page, stack: Stack) -> None:
    from tests.web.conftest import open_as, session_for

    open_as(page, session_for(stack, "sales"), "/setup")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Setup")).to_be_visible()
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_text("Only admins manage users.")).to_be_visible()
    expect(page.get_by_role("button", name="Invite user")).to_have_count(0)


def test_pipeline_stages_are_added_renamed_reordered_and_removed(page: Page, admin: Api) -> None:
    name = f"Partners {uuid.uuid4().hex[:4]}"
    login(page)
    page.goto("/#/setup/pipelines")
    page.get_by_role("button", name="New pipeline").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label(re.compile("^Open stages")).fill("Intro, 10\nPilot, 40")
    assert_accessible(page, "the new pipeline dialog")
    dialog.get_by_role("button", name="Create pipeline").click()
    panel = page.locator("section.panel", has=page.get_by_role("heading", name=name))
    expect(panel.locator("tbody tr")).to_have_count(4)

    panel.get_by_role("button", name=f"Add stage to {name}").click()
    stage = page.get_by_role("dialog")
    stage.get_by_label("Stage name").fill("Contract")
    stage.get_by_label("Probability (%)").fill("75")
    stage.get_by_role("button", name="Add stage").click()
    expect(panel.locator("tbody tr").nth(2)).to_contain_text("Contract")

    panel.get_by_role("button", name="Edit stage Pilot").click()
    edit = page.get_by_role("dialog")
    edit.get_by_label("Stage name").fill("Paid pilot")
    edit.get_by_label("Probability (%)").fill("55")
    edit.get_by_role("button", name="Save stage").click()
    expect(panel.locator("tbody tr").nth(1)).to_contain_text("Paid pilot")
    expect(panel.locator("tbody tr").nth(1)).to_contain_text("55%")

    panel.get_by_role("button", name="Move Contract up").click()
    expect(panel.locator("tbody tr").nth(1)).to_contain_text("Contract")
    panel.get_by_role("button", name="Move Intro down").click()
    expect(panel.locator("tbody tr").nth(1)).to_contain_text("Intro")
    panel.get_by_role("button", name="Remove stage Paid pilot").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove stage").click()
    expect(panel).not_to_contain_text("Paid pilot")
    panel.get_by_role("button", name=f"Rename the pipeline {name}").click()
    page.get_by_role("dialog").get_by_label("Name", exact=True).fill(f"{name} EU")
    page.get_by_role("dialog").get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name=f"{name} EU")).to_be_visible()
    shot(page, "setup-pipelines")

    saved = next(p for p in admin.ok("GET", "/api/crm/pipelines") if p["name"] == f"{name} EU")
    assert [(s["name"], s["probability"], s["kind"]) for s in saved["stages"]] == [
        ("Contract", "75.00", "open"), ("Intro", "10.00", "open"), ("Won", "100.00", "won"), ("Lost", "0.00", "lost")]


def test_automation_and_assignment_rules(page: Page, admin: Api) -> None:
    rule_name = f"Proposal follow-up {uuid.uuid4().hex[:4]}"
    login(page)
    page.goto("/#/setup/automation")
    page.get_by_role("button", name="New automation rule").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill(rule_name)
    dialog.get_by_label("When").select_option("stage_entered")
    default = next(p for p in admin.ok("GET", "/api/crm/pipelines") if p["is_default"])
    dialog.get_by_label("Stage").select_option(next(s["id"] for s in default["stages"] if s["name"] == "Proposal"))
    dialog.get_by_label("Then").select_option("create_task")
    dialog.get_by_label("Task title").fill("Call about the proposal for {title}")
    dialog.get_by_label("Due in hours").fill("48")
    expect(dialog.get_by_label("Idle days")).to_be_hidden()
    expect(dialog.get_by_label("Note subject")).to_be_hidden()
    assert_accessible(page, "the automation rule dialog")
    dialog.get_by_role("button", name="Create rule").click()
    row = page.locator("tr", has_text=rule_name)
    expect(row).to_contain_text("A deal enters Proposal")
    expect(row).to_contain_text("due in 48 h, for the owner")
    rule = next(r for r in admin.ok("GET", "/api/crm/automation-rules") if r["name"] == rule_name)
    assert rule["actions"] == [{"type": "create_task", "title": "Call about the proposal for {title}",
                                "description": None, "due_in_hours": 48, "assignee": "owner"}]
    row.get_by_role("button", name=f"Pause the rule {rule_name}").click()
    expect(page.locator("tr", has_text=rule_name)).to_contain_text("Paused")

    me = admin.ok("GET", "/api/auth/me")
    assignment = f"Website leads {uuid.uuid4().hex[:4]}"
    page.get_by_role("button", name="New assignment rule").click()
    rules = page.get_by_role("dialog")
    rules.get_by_label("Name", exact=True).fill(assignment)
    rules.get_by_label("Which leads").select_option("by_source")
    rules.get_by_label("Source").select_option("event")
    # The admin's own box (other tests add users named alike): found by the user id it carries.
    rules.get_by_role("group", name="Hand leads to").locator(f"input[value='{me['id']}']").check()
    rules.get_by_label("Order").fill("9000")
    assert_accessible(page, "the assignment rule dialog")
    rules.get_by_role("button", name="Create rule").click()
    expect(page.locator("tr", has_text=assignment)).to_contain_text("From Event")
    saved = next(r for r in admin.ok("GET", "/api/crm/assignment-rules") if r["name"] == assignment)
    assert saved["owner_ids"] == [me["id"]] and saved["source"] == "event" and saved["position"] == 9000
    shot(page, "setup-automation")
    page.get_by_role("button", name=f"Delete the assignment rule {assignment}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete rule").click()
    expect(page.locator("tr", has_text=assignment)).to_have_count(0)
    page.get_by_role("button", name=f"Delete the rule {rule_name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete rule").click()
    expect(page.locator("tr", has_text=rule_name)).to_have_count(0)


@contextmanager
def website(tmp_path: Path, html: str) -> Iterator[str]:
    """Another origin serving one page (a customer's website with the pasted form)."""
    (tmp_path / "contact.html").write_text(html)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_capture_key_s_form_snippet_brings_a_website_enquiry_in(page: Page, admin: Api, tmp_path: Path) -> None:
    with website(tmp_path, "<!doctype html><title>Shop</title>PLACEHOLDER") as site:
        login(page)
        page.goto("/#/setup/lead-capture")
        page.get_by_role("button", name="New capture key").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label(re.compile(r"^Name")).fill("Shop contact form")
        dialog.get_by_label(re.compile("^Allowed origins")).fill(f"{site}/")
        assert_accessible(page, "the capture key dialog")
        dialog.get_by_role("button", name="Create key").click()
        snippet = page.get_by_role("dialog").get_by_label("HTML form", exact=True)
        expect(snippet).to_contain_text("capture_key")
        assert_accessible(page, "the snippet dialog")
        shot(page, "setup-lead-capture", full_page=False)
        html = snippet.input_value()
        page.get_by_role("dialog").get_by_role("button", name="Done").click()
        expect(page.locator("tr", has_text="Shop contact form")).to_contain_text(site)

        email = f"enquiry-{uuid.uuid4().hex[:8]}@shop.example"
        (tmp_path / "contact.html").write_text(f"<!doctype html><title>Shop</title>{html}")
        visitor = other_page(page)
        visitor.goto(f"{site}/contact.html")
        submission = visitor.locator("input[name=submission_id]").input_value()
        assert len(submission) >= 8  # the snippet's script filled it in
        visitor.get_by_label("First name").fill("Vera")
        visitor.get_by_label("Last name").fill("Visitor")
        visitor.get_by_label("Email").fill(email)
        visitor.get_by_label("Company").fill("Visiting Ltd")
        visitor.get_by_label("Message").fill("Do you build online shops? We need one by May.")
        visitor.get_by_role("button", name="Send").click()
        expect(visitor.get_by_role("heading", name="Thank you")).to_be_visible()
        leads = admin.ok("GET", "/api/crm/leads", params={"q": email})["items"]
        assert len(leads) == 1 and leads[0]["message"] == "Do you build online shops? We need one by May."

        page.goto("/#/leads")
        settled(page)
        expect(page.locator("tr", has_text="Visiting Ltd")).to_contain_text("Website")
