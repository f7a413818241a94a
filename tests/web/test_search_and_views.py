"""Search from the header of every screen, and a list filter kept as a saved view (issue 24), in Chromium."""

import random
import string

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api
from tests.web.conftest import ADMIN, assert_accessible, open_as, session_for, settled, shot


def _tag() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=8))


def test_search_from_the_header_with_a_typo_and_the_keyboard(page: Page, stack: Stack) -> None:
    admin = Api.login(stack, *ADMIN)
    tag = _tag()
    company = admin.new_company(f"Harbour {tag.title()}")
    contact = admin.ok("POST", "/api/crm/contacts", 201, json={
        "first_name": "Maya", "last_name": tag.title(), "company_id": company["id"], "email": f"maya@{tag}.example"})
    open_as(page, session_for(stack, "sales"), "/pipeline")
    settled(page)
    # "/" from anywhere outside a field goes to the search box in the header.
    page.locator("main h1").click()
    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Search")
    expect(box).to_be_focused()
    page.keyboard.type(f"Mya {tag[:5]}")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"/#/search?q=Mya%20{tag[:5]}")
    settled(page)
    contacts = page.get_by_role("region", name="Contacts")
    link = contacts.get_by_role("link", name=f"Maya {tag.title()}")
    expect(link).to_have_attribute("href", f"#/contacts/{contact['id']}")
    expect(page.get_by_role("region", name="Invoices")).to_have_count(0)
    expect(box).to_have_value(f"Mya {tag[:5]}")
    assert_accessible(page, "the search results")
    shot(page, "search")
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"/#/contacts/{contact['id']}")
    settled(page)
    expect(page.locator("main h1")).to_contain_text("Maya")
    # The header's box is on this screen too, empty again; a typo in the company's name finds it.
    expect(box).to_have_value("")
    box.fill(f"Harbor {tag}")
    box.press("Enter")
    settled(page)
    companies = page.get_by_role("region", name="Companies")
    expect(companies.get_by_role("link", name=f"Harbour {tag.title()}")).to_be_visible()
