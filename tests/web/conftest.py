"""Browser tests: headless Chromium (Debian's `chromium` package) driven by Playwright, against the session stack."""

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from devstack.ports import free_port
from devstack.processes import ServiceProcess
from devstack.stack import Stack
from gateway.credentials.tokens import TokenIssuer
from tests.support import ensure_person

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
_ROOT = Path(__file__).resolve().parents[2]
# Every run saves screenshots as test artifacts (CI output); `UPDATE_SCREENSHOTS=1` also refreshes the committed
# copies under docs/screenshots/ that the README shows, so an ordinary test run leaves the work tree clean.
SCREENSHOTS = _ROOT / "test-artifacts" / "screenshots"
DOC_SCREENSHOTS = _ROOT / "docs" / "screenshots"
ADMIN = ("admin@example.com", "admin-test-password")
# axe-core, pinned in tests/web/package-lock.json and installed by `make lint` (tests/web/ensure_node.sh).
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# What the gate fails on: axe's two worst impact levels.
AXE_FAILS_ON = ("serious", "critical")


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread while it is open,
# and a later package's fixture that calls asyncio.run() (a database migrated for the test) would then fail.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run tests/web/ensure_chromium.sh (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def serves_web_app(url: str) -> bool:
    """The gateway serves the page at / and the live-updates endpoint (401 without a token, not 404)."""
    try:
        index = httpx.get(url + "/", timeout=5)
        live = httpx.get(url + "/api/live", timeout=5)
    except httpx.HTTPError:
        return False
    return index.status_code == 200 and "text/html" in index.headers.get("content-type", "") \
        and live.status_code == 401


@pytest.fixture(scope="session")
def base_url(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The stack's gateway once it serves the web app and /api/live; until then a test gateway that adds them."""
    url = f"http://127.0.0.1:{stack.ports.gateway}"
    if serves_web_app(url):
        yield url
        return
    process = ServiceProcess("web-gateway", ["tests.web.web_gateway"], stack.common_env(), free_port(),
                             tmp_path_factory.mktemp("web-gateway"))
    root = str(Path(__file__).resolve().parents[2])
    process.start({"PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)})
    try:
        process.wait_ready("/health/live")
        yield process.url
    finally:
        process.stop()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 860}, locale="en-GB",
                                  timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The gateway's Content-Security-Policy allows no inline script: anything it blocks fails the test.
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not blocked, f"Blocked by the Content-Security-Policy: {blocked}"


def other_page(page: Page) -> Page:
    """A page in a new browser context (its own localStorage, so its own session), closed with `page`'s."""
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(base_url=page.url.split("/#")[0] if page.url.startswith("http") else None,
                                  viewport={"width": 1280, "height": 860}, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(15_000)
    page.context.on("close", lambda _: context.close())
    return context.new_page()


def issuer(stack: Stack) -> TokenIssuer:
    private, _ = stack.keys()
    return TokenIssuer(private, timedelta(minutes=5), timedelta(days=1))


def session_for(stack: Stack, role: str, email: str | None = None, user_id: str | None = None) -> dict[str, Any]:
    """A web-app session (what the login stores) for a user of any role, minted with the gateway's key."""
    tokens = issuer(stack)
    uid = user_id or str(uuid.uuid4())
    ensure_person(stack, uid)  # the person the gateway's user.created would have made
    return {"access_token": tokens.access_token(user_id=uid, email=email or f"{role}-{uid[:6]}@example.com", role=role),
            "refresh_token": tokens.refresh_token(user_id=uid), "expires_at": 4102444800000, "me": None}


def open_as(page: Page, session: dict[str, Any], path: str = "/") -> None:
    """Open the app already logged in with `session` (skips the login form)."""
    # The top document only: a sandboxed frame (the rendered invoice) has no storage and would throw.
    page.add_init_script(
        f"if (window === window.top) localStorage.setItem('throughline.session', {json.dumps(json.dumps(session))})")
    page.goto(f"/#{path}")


def login(page: Page, email: str = ADMIN[0], password: str = ADMIN[1]) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.locator("#me-email").wait_for(state="attached")


def settled(page: Page) -> None:
    """Wait until the current screen has rendered (the app marks <main> busy while it loads)."""
    page.wait_for_function(
        "() => document.querySelector('main .view, .login') && !document.querySelector('[aria-busy]')")


def shot(page: Page, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    settled(page)
    page.evaluate("document.getElementById('toasts')?.replaceChildren()")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCREENSHOTS / f"{name}.png", DOC_SCREENSHOTS / f"{name}.png")


def _axe_source() -> str:
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `sh tests/web/ensure_node.sh` (or `make lint`), which installs "
                           "the pinned axe-core with npm ci")
    return AXE.read_text()


AXE_RUN = """async (failsOn) => {
  const result = await axe.run(document, { iframes: false, resultTypes: ["violations"] });
  return result.violations.filter((v) => failsOn.includes(v.impact)).map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}"""


def assert_accessible(page: Page, where: str) -> None:
    """axe-core finds no serious or critical violation on what the page shows now (dialogs included). It is put into
    the page through the DevTools protocol (Playwright's evaluate), which the page's CSP does not govern; the app's
    own scripts stay under the CSP, whose violations fail every test (the `page` fixture)."""
    settled(page)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    violations = page.evaluate(AXE_RUN, list(AXE_FAILS_ON))
    assert not violations, f"axe on {where}: {violations}"
