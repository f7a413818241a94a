"""Companies and contacts: CRUD, search, duplicate prevention and flags, soft delete, events."""

from devstack.stack import Stack
from tests.crm.helpers import outbox_events, suffix
from tests.support import Api


def test_company_update_and_soft_delete_emit_events(sales: Api, stack: Stack) -> None:
    s = suffix()
    company = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Acme {s}", "domain": f"acme-{s}.example",
                                                                 "email": f"hello@acme-{s}.example"})
    assert company["version"] == 1
    changed = sales.ok("PATCH", f"/api/crm/companies/{company['id']}", json={"phone": "+49 30 1234", "size": 40})
    assert changed["phone"] == "+49 30 1234" and changed["size"] == 40 and changed["version"] == 2
    assert changed["domain"] == company["domain"]  # untouched fields stay
    same = sales.ok("PATCH", f"/api/crm/companies/{company['id']}", json={"phone": "+49 30 1234"})
    assert same["version"] == 2  # no change, no new version

    found = sales.ok("GET", "/api/crm/companies", params={"q": f"acme-{s}"})
    assert [c["id"] for c in found["items"]] == [company["id"]]

    response = sales.client.delete(f"/api/crm/companies/{company['id']}")
    assert response.status_code == 204
    assert sales.get(f"/api/crm/companies/{company['id']}").status_code == 404
    assert sales.ok("GET", "/api/crm/companies", params={"q": f"acme-{s}"})["total"] == 0
    assert outbox_events(stack, company["id"]) == ["company.created", "company.updated", "company.updated"]
    # The domain is free again once the company is deleted.
    sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Acme again {s}", "domain": f"acme-{s}.example"})


def test_duplicates_are_refused_then_flagged_on_purpose(sales: Api) -> None:
    s = suffix()
    first = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Dup {s}", "domain": f"dup-{s}.example",
                                                               "email": f"info@dup-{s}.example"})
    by_domain = sales.post("/api/crm/companies", json={"name": "Other", "domain": f"DUP-{s}.example"})
    assert by_domain.status_code == 409
    assert by_domain.json()["duplicate_of"] == first["id"]
    assert "domain" in by_domain.json()["detail"]
    by_email = sales.post("/api/crm/companies", json={"name": "Other", "email": f"info@dup-{s}.example"})
    assert by_email.status_code == 409 and "email" in by_email.json()["detail"]
    flagged = sales.ok("POST", "/api/crm/companies", 201, params={"allow_duplicate": "true"},
                       json={"name": f"Dup copy {s}", "domain": f"dup-{s}.example"})
    assert flagged["duplicate_of"] == first["id"]
    dups = sales.ok("GET", "/api/crm/companies", params={"duplicates": "true", "q": f"dup-{s}"})
    assert [c["id"] for c in dups["items"]] == [flagged["id"]]
    other = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Else {s}"})
    clash = sales.client.patch(f"/api/crm/companies/{other['id']}", json={"domain": f"dup-{s}.example"})
    assert clash.status_code == 409


def test_contacts_crud_search_duplicates_and_events(sales: Api, stack: Stack) -> None:
    s = suffix()
    company = sales.new_company()
    contact = sales.ok("POST", "/api/crm/contacts", 201, json={
        "first_name": "Grace", "last_name": f"Hopper {s}", "email": f"grace-{s}@navy.example",
        "company_id": company["id"], "title": "CTO"})
    assert contact["full_name"] == f"Grace Hopper {s}" and contact["version"] == 1
    assert sales.ok("GET", "/api/crm/contacts", params={"q": f"hopper {s}"})["items"][0]["id"] == contact["id"]
    assert sales.ok("GET", "/api/crm/contacts", params={"company_id": company["id"]})["total"] == 1

    dup = sales.post("/api/crm/contacts", json={"first_name": "G", "email": f"GRACE-{s}@navy.example"})
    assert dup.status_code == 409 and dup.json()["duplicate_of"] == contact["id"]
    flagged = sales.ok("POST", "/api/crm/contacts", 201, params={"allow_duplicate": "true"},
                       json={"first_name": "G", "email": f"grace-{s}@navy.example"})
    assert flagged["duplicate_of"] == contact["id"]

    changed = sales.ok("PATCH", f"/api/crm/contacts/{contact['id']}", json={"phone": "+1 555 0100", "title": None})
    assert changed["phone"] == "+1 555 0100" and changed["title"] is None and changed["version"] == 2
    assert sales.client.delete(f"/api/crm/contacts/{contact['id']}").status_code == 204
    assert sales.get(f"/api/crm/contacts/{contact['id']}").status_code == 404
    assert outbox_events(stack, contact["id"]) == ["contact.created", "contact.updated", "contact.updated"]


def test_contact_input_is_validated(sales: Api) -> None:
    bad = [
        {"first_name": "", "email": "x@y.example"},
        {"first_name": "X", "email": "not-an-email"},
        {"first_name": "X", "company_id": "00000000-0000-4000-8000-00000000dead"},
        {"first_name": "X", "unknown": 1},
    ]
    for body in bad:
        response = sales.post("/api/crm/contacts", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    assert sales.client.patch("/api/crm/contacts/00000000-0000-4000-8000-00000000dead",
                              json={"first_name": "Y"}).status_code == 404


def test_company_with_open_deals_cannot_be_deleted_and_roles_are_enforced(sales: Api, viewer: Api) -> None:
    company = sales.new_company()
    sales.new_deal(company["id"])
    refused = sales.client.delete(f"/api/crm/companies/{company['id']}")
    assert refused.status_code == 409
    assert sales.ok("GET", f"/api/crm/companies/{company['id']}")["id"] == company["id"]
    assert viewer.ok("GET", f"/api/crm/companies/{company['id']}")["id"] == company["id"]  # everyone reads
    assert viewer.post("/api/crm/companies", json={"name": "Nope"}).status_code == 403
    assert viewer.client.patch(f"/api/crm/companies/{company['id']}", json={"name": "x"}).status_code == 403
    assert viewer.post("/api/crm/contacts", json={"first_name": "Nope"}).status_code == 403
