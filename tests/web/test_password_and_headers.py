"""The web app under its Content-Security-Policy (every browser test fails on a CSP violation: see conftest's
`page`), its security headers, and the Change password dialog that every role reaches from the sidebar."""

import uuid
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api
from tests.web.conftest import login


def _directives(policy: str) -> dict[str, str]:
    return {part.strip().split(" ", 1)[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_the_web_app_and_the_api_carry_the_security_headers(base_url: str) -> None:
    for path in ("/", "/assets/app.js", "/assets/currencies.js", "/api/auth/me", "/openapi.json"):
        response = httpx.get(base_url + path, timeout=10)
        policy = _directives(response.headers["content-security-policy"])
        assert policy["script-src"] == "script-src 'self'", path  # no inline script, no eval, nothing from elsewhere
        assert policy["frame-ancestors"] == "frame-ancestors 'none'" and policy["object-src"] == "object-src 'none'"
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["referrer-policy"] == "no-referrer", path
    docs = httpx.get(base_url + "/docs", timeout=10)
    script_src = _directives(docs.headers["content-security-policy"])["script-src"]
    assert "'sha256-" in script_src and "unsafe-inline" not in script_src


def _user(admin: Api, role: str) -> dict[str, Any]:
    email = f"web-{uuid.uuid4().hex[:8]}@example.com"
    password = "first pass phrase"
    user: dict[str, Any] = admin.ok("POST", "/api/auth/users", 201,
                                    json={"email": email, "password": password, "role": role})
    return {**user, "password": password}


def _fill_password_dialog(page: Page, current: str, new: str, repeat: str | None = None) -> None:
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Current password").fill(current)
    dialog.get_by_label("New password", exact=False).first.fill(new)
    dialog.get_by_label("Repeat the new password").fill(new if repeat is None else repeat)
    dialog.get_by_role("button", name="Change password").click()


def test_every_role_changes_their_password_from_the_sidebar(page: Page, admin: Api) -> None:
    user = _user(admin, "viewer")
    login(page, user["email"], user["password"])
    page.get_by_role("button", name="Change password").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Change password")).to_be_visible()

    _fill_password_dialog(page, user["password"], "new words here", repeat="other words")
    expect(dialog.get_by_role("alert")).to_contain_text("The new passwords differ")
    _fill_password_dialog(page, user["password"], "password")  # the server's policy speaks
    expect(dialog.get_by_role("alert")).to_contain_text("most common passwords")
    _fill_password_dialog(page, "not the current one", "a calm blue river")
    expect(dialog.get_by_role("alert")).to_contain_text("The current password is wrong")
    _fill_password_dialog(page, user["password"], "a calm blue river")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(".toast")).to_contain_text("Password changed")

    # The tab carries on with the new tokens (a reload too); the old password is gone.
    page.reload()
    expect(page.locator("#me-email")).to_have_text(user["email"])
    expect(page.locator("body")).to_have_attribute("data-live", "ready")
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill(user["email"])
    page.get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password.")
    login(page, user["email"], "a calm blue river")
    expect(page.locator("#me-email")).to_have_text(user["email"])


def test_an_account_that_must_change_its_password_is_asked_at_login(page: Page, admin: Api, stack: Stack) -> None:
    user = _user(admin, "admin")
    assert stack.postgres is not None
    # What the gateway does for the configured first admin whose ADMIN_PASSWORD fails the policy (admin / admin).
    stack.postgres.psql("gateway", f"UPDATE users SET password_change_required = true WHERE id = '{user['id']}'")
    login(page, user["email"], user["password"])
    expect(page.locator("#password-required")).to_contain_text("too weak")
    _fill_password_dialog(page, user["password"], "finally a good one")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.reload()
    expect(page.locator("#me-email")).to_have_text(user["email"])
    expect(page.get_by_role("dialog")).to_have_count(0)  # not asked again
