"""People and the member role in a browser (issue 23): an admin gives the member role from the Users screen, the new
user appears in the People directory (by the gateway's user event), finance sets their department, capacity and
rates, and the member finds only their own menus and never a colleague's cost rate. axe-core checks each screen."""

import uuid
from typing import Any

import jwt
from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api, wait_for
from tests.web.conftest import ADMIN, assert_accessible, login, open_as, other_page, session_for, settled, shot


def person_of(admin: Api, user_id: str) -> dict[str, Any] | None:
    response = admin.get(f"/api/erp/people/{user_id}")
    return response.json() if response.status_code == 200 else None


def test_a_member_from_the_users_screen_to_the_people_page(page: Page, stack: Stack) -> None:
    email = f"mira-{uuid.uuid4().hex[:8]}@example.com"
    login(page)
    page.goto("/#/setup/users")
    page.get_by_role("button", name="Invite user").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_label("Full name").fill("Mira Kovac")
    dialog.get_by_label("Role").select_option("member")
    dialog.get_by_role("button", name="Create the account").click()
    page.get_by_role("dialog").get_by_role("button", name="Done").click()
    expect(page.locator("tr", has_text=email)).to_contain_text("Member")

    with Api.login(stack, *ADMIN) as admin:
        user = next(u for u in admin.ok("GET", "/api/auth/users", params={"q": email})["items"])
        wait_for(lambda: person_of(admin, user["id"]), 20, "the member's person")

    # Finance sets department, capacity and rates from the People page.
    finance = other_page(page)
    open_as(finance, session_for(stack, "finance"), "/people")
    settled(finance)
    assert_accessible(finance, "the people page")
    finance.get_by_role("link", name="Mira Kovac").click()
    expect(finance.get_by_role("heading", name="Mira Kovac")).to_be_visible()
    finance.get_by_role("button", name="Edit", exact=True).click()
    edit = finance.get_by_role("dialog")
    edit.get_by_label("Department").fill("Design")
    edit.get_by_label("From").fill("2026-01-01")
    edit.get_by_label("Weekly capacity (hours)").fill("32")
    edit.get_by_label("List rate per hour").fill("120")
    edit.get_by_label("Cost rate per hour").fill("48.50")
    assert_accessible(finance, "the change-person dialog")
    edit.get_by_role("button", name="Save").click()
    expect(finance.get_by_test_id("person-department")).to_have_text("Design")
    expect(finance.get_by_test_id("person-capacity")).to_have_text("32 h/week")
    expect(finance.get_by_test_id("person-list-rate")).to_have_text("EUR 120.00")
    expect(finance.get_by_test_id("person-cost-rate")).to_have_text("EUR 48.50")
    assert_accessible(finance, "a person's page")
    shot(finance, "people-person")

    # The member: their own menus, their own cost rate, no colleague's.
    member = other_page(page)
    open_as(member, session_for(stack, "member", email=email, user_id=user["id"]), "/")
    settled(member)
    expect(member.get_by_role("heading", name="Your work")).to_be_visible()
    menu = member.get_by_role("navigation", name="Main").locator("ul.nav a")
    expect(menu).to_have_text(["Dashboard", "Projects", "Expenses", "Timesheet", "People"])
    expect(member.locator("#global-search")).to_have_count(0)  # a member searches nothing
    assert_accessible(member, "a member's home")
    member.goto(f"/#/people/{user['id']}")
    settled(member)
    expect(member.get_by_test_id("person-cost-rate")).to_have_text("EUR 48.50")
    expect(member.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    colleague = session_for(stack, "project_manager")
    member.goto(f"/#/people/{_id_of(colleague)}")
    settled(member)
    expect(member.get_by_test_id("person-capacity")).to_be_visible()
    expect(member.get_by_test_id("person-cost-rate")).to_have_count(0)
    member.goto("/#/projects")
    settled(member)
    expect(member.locator("main .error")).to_have_count(0)
    expect(member.get_by_text("You work on no project yet")).to_be_visible()


def _id_of(session: dict[str, Any]) -> str:
    """The user id of a minted session (its person was made with it: tests/web/conftest.session_for)."""
    return str(jwt.decode(session["access_token"], options={"verify_signature": False})["sub"])
