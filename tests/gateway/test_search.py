"""GET /api/search through the gateway, against the real CRM and ERP: typo tolerance, ranking, the role filter."""

import random
import string
from typing import Any

from devstack.stack import Stack
from tests.gateway.helpers import assert_problem, client, gateway_url, token_for
from tests.support import Api, fixed_terms, wait_for


def _tag() -> str:
    """A made-up word (letters only, so it joins the typo vocabulary) that no other test uses."""
    return "".join(random.choices(string.ascii_lowercase, k=9))


def _search(api: Any, q: str, **params: Any) -> dict[str, Any]:
    response = api.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_typo_finds_the_contact(admin: Api, stack: Stack) -> None:
    tag = _tag()
    company = admin.new_company(f"Orbital {tag.title()}")
    contact = admin.ok("POST", "/api/crm/contacts", 201, json={
        "first_name": "Maya", "last_name": tag.title(), "company_id": company["id"], "email": f"maya@{tag}.example"})
    with client(gateway_url(stack), token=token_for(stack, "sales")) as sales:
        for q in ("Mya", f"Mya {tag[:5]}", f"maya {tag}", f"{tag[:4]}{tag[5:]}"):  # a typo, a prefix, exact, a gap
            hits = _search(sales, q, limit=20)["hits"]
            found = [h for h in hits if h["id"] == contact["id"]]
            assert found, f"{q!r} did not find the contact: {hits}"
            assert found[0] == {**found[0], "type": "contact", "title": f"Maya {tag.title()}",
                                "link": f"#/contacts/{contact['id']}"}
        # The company is found by its name with a typo too, and by its contact's email domain it is not a contact.
        hits = _search(sales, f"Orbitl {tag}")["hits"]
        assert [h["id"] for h in hits if h["type"] == "company"] == [company["id"]]


def test_exact_hits_rank_above_typo_hits(admin: Api) -> None:
    tag = _tag()
    typo = tag[:3] + ("x" if tag[3] != "x" else "y") + tag[4:]
    near = admin.new_company(f"{typo.title()} Partners")
    exact = admin.new_company(f"{tag.title()} Partners")
    body = _search(admin, tag)
    companies = [h["id"] for h in body["hits"] if h["type"] == "company"]
    assert companies == [exact["id"], near["id"]], body
    scores = {h["id"]: h["score"] for h in body["hits"]}
    assert scores[exact["id"]] > scores[near["id"]]
    assert body["words"] == [tag]


def test_invoices_only_for_roles_that_may_read_them(admin: Api, stack: Stack) -> None:
    tag = _tag()
    company = admin.new_company(f"Ledger {tag.title()}")
    deal = admin.new_deal(company["id"], billing=fixed_terms(1), title=f"Rebrand {tag.title()}")
    admin.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    project = admin.project_of(deal["id"])
    invoice = admin.ok("POST", "/api/erp/invoices", 201, json={
        "project_id": project["id"], "lines": [{"description": "Design", "quantity": "1", "unit_price": "900.00"}]})

    def hits_for(role: str) -> dict[str, Any]:
        with client(gateway_url(stack), token=token_for(stack, role)) as api:
            return _search(api, tag, limit=20)

    def invoice_found() -> dict[str, Any] | None:
        body = hits_for("finance")
        return body if any(h["type"] == "invoice" for h in body["hits"]) else None

    finance = wait_for(invoice_found, 15, "the invoice to be found")
    assert {(h["type"], h["id"]) for h in finance["hits"]} >= {
        ("company", company["id"]), ("deal", deal["id"]), ("project", project["id"]), ("invoice", invoice["id"])}
    assert next(h for h in finance["hits"] if h["type"] == "invoice")["link"] == f"#/invoices/{invoice['id']}"
    for role in ("sales", "project_manager"):
        body = hits_for(role)
        assert "invoice" not in body["types"]
        assert not [h for h in body["hits"] if h["type"] == "invoice"], (role, body)
        assert ("project", project["id"]) in {(h["type"], h["id"]) for h in body["hits"]}
    # Asking for invoices only, a role that may not read them gets nothing, not a 403.
    with client(gateway_url(stack), token=token_for(stack, "sales")) as sales:
        assert _search(sales, tag, type="invoice") == {**_search(sales, tag, type="invoice"), "hits": [], "types": []}


def test_search_input_is_checked(admin: Api, stack: Stack) -> None:
    assert_problem(admin.get("/api/search"), 422)
    assert_problem(admin.get("/api/search", params={"q": ""}), 422)
    assert_problem(admin.get("/api/search", params={"q": "x" * 201}), 422)
    assert_problem(admin.get("/api/search", params={"q": "acme", "type": "payment"}), 422)
    assert_problem(admin.get("/api/search", params={"q": "acme", "limit": "0"}), 422)
    assert_problem(client(gateway_url(stack)).get("/api/search", params={"q": "acme"}), 401)
    # Punctuation alone searches nothing (and breaks no tsquery).
    assert _search(admin, "'&|!:*()")["hits"] == []


def test_a_renamed_record_is_found_by_its_new_name_with_a_typo(admin: Api) -> None:
    """The vocabulary learns the words of changed rows too (the update trigger), not only of new ones."""
    tag, new = _tag(), _tag()
    company = admin.new_company(f"Old {tag.title()}")
    admin.ok("PATCH", f"/api/crm/companies/{company['id']}", json={"name": f"Renamed {new.title()}"})
    typo = new[:2] + new[3:]  # one letter left out
    hits = _search(admin, f"renamed {typo}")["hits"]
    assert [h["id"] for h in hits if h["type"] == "company"] == [company["id"]]
