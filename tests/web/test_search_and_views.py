"""Search from the header of every screen, and a list filter kept as a saved view (issue 24), in Chromium."""

import random
import re
import string
import uuid

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api, fixed_terms
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


def test_filter_the_board_to_my_big_deals_and_keep_it_as_a_view(page: Page, stack: Stack) -> None:
    admin = Api.login(stack, *ADMIN)
    tag = _tag()
    me = str(uuid.uuid4())
    company = admin.new_company(f"Board {tag.title()}")
    mine_big = admin.new_deal(company["id"], amount="40000.00", owner_id=me, title=f"Mine big {tag}")
    mine_small = admin.new_deal(company["id"], amount="800.00", owner_id=me, title=f"Mine small {tag}")
    theirs = admin.new_deal(company["id"], amount="50000.00", owner_id=str(uuid.uuid4()), title=f"Theirs {tag}")
    open_as(page, session_for(stack, "sales", user_id=me), "/pipeline")
    settled(page)
    board = page.locator(".board")
    for deal in (mine_big, mine_small, theirs):
        expect(board.get_by_role("link", name=deal["title"])).to_be_visible()
    filters = page.get_by_role("form", name="Filters")
    filters.get_by_label("Owner").select_option(label="Mine")
    filters.get_by_label("Company").select_option(label=f"Board {tag.title()}")
    filters.get_by_label("Amount from").fill("10000")
    filters.get_by_label("Amount from").press("Enter")  # the keyboard submits the form
    expect(page).to_have_url(re.compile(r"owner=mine"))
    settled(page)
    expect(board.get_by_role("link", name=mine_big["title"])).to_be_visible()
    expect(board.get_by_role("link", name=mine_small["title"])).to_have_count(0)
    expect(board.get_by_role("link", name=theirs["title"])).to_have_count(0)
    expect(page.locator("#board-summary")).to_contain_text("1 open deals match the filters")
    assert_accessible(page, "the filtered board")

    page.get_by_role("button", name="Save view").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(f"My big deals {tag}")
    dialog.get_by_role("button", name="Save view").click()
    expect(page.get_by_label("Saved view")).to_have_value(re.compile(r"[0-9a-f-]{36}"))
    shot(page, "board-filters")

    page.get_by_role("button", name="Clear").click()
    settled(page)
    expect(board.get_by_role("link", name=theirs["title"])).to_be_visible()
    page.get_by_label("Saved view").select_option(label=f"My big deals {tag}")
    settled(page)
    expect(page).to_have_url(re.compile(r"amount_min=10000"))
    expect(filters.get_by_label("Owner")).to_have_value("mine")
    expect(board.get_by_role("link", name=mine_big["title"])).to_be_visible()
    expect(board.get_by_role("link", name=theirs["title"])).to_have_count(0)
    # The view is this person's alone: another sales person has no saved view.
    views = admin.ok("GET", "/api/views", params={"list": "pipeline"})["items"]
    assert f"My big deals {tag}" not in [v["name"] for v in views]


def test_invoices_filtered_by_client_and_total(page: Page, stack: Stack) -> None:
    admin = Api.login(stack, *ADMIN)
    tag = _tag()
    company = admin.new_company(f"Invoiced {tag.title()}")
    deal = admin.new_deal(company["id"], billing=fixed_terms(1), title=f"Retainer {tag}")
    admin.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    project = admin.project_of(deal["id"])
    for amount in ("120.00", "9500.00"):
        admin.ok("POST", "/api/erp/invoices", 201, json={
            "project_id": project["id"], "lines": [{"description": "Work", "quantity": "1", "unit_price": amount}]})
    open_as(page, session_for(stack, "finance"), "/invoices")
    settled(page)
    filters = page.get_by_role("form", name="Filters")
    filters.get_by_label("Client").select_option(label=f"Invoiced {tag.title()}")
    filters.get_by_label("Total from").fill("5000")
    filters.get_by_label("Total to").fill("100")
    filters.get_by_role("button", name="Apply filters").click()
    expect(filters.get_by_role("alert")).to_contain_text("“Total from” lies after “Total to”")
    expect(filters.get_by_label("Total from")).to_be_focused()
    filters.get_by_label("Total to").fill("")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"total_min=5000"))
    settled(page)
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("9,500.00")
    assert_accessible(page, "the filtered invoices")
