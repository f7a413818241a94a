"""CSV import with a column mapping, through the gateway (not the CRM directly) and real PostgreSQL: the proposal
from other tools' header names, the preview (nothing written), the commit with its report, upsert by domain and
email, and the committed HubSpot and Pipedrive exports importing without editing."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import Stack
from tests.crm.helpers import as_role, suffix
from tests.support import Api

CSV = {"Content-Type": "text/csv"}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def sales(stack: Stack) -> Iterator[Api]:
    """Sales through the gateway (the CRM's own `sales` fixture talks to the CRM directly)."""
    with as_role(stack, "sales", user_id="sales-import", via_gateway=True) as api:
        api.client.timeout = 120
        yield api


@pytest.fixture(scope="module")
def viewer(stack: Stack) -> Iterator[Api]:
    with as_role(stack, "viewer", user_id="viewer-import", via_gateway=True) as api:
        yield api


def _post(api: Api, path: str, body: bytes, expected: int = 200, **params: str) -> dict:  # type: ignore[type-arg]
    response = api.post(path, content=body, headers=CSV, params=params)
    assert response.status_code == expected, response.text
    return response.json()  # type: ignore[no-any-return]


def _mapping(proposal: dict) -> str:  # type: ignore[type-arg]
    return json.dumps({c["source"]: c["target"] for c in proposal["columns"]})


def test_the_proposal_knows_hubspot_and_pipedrive_column_names(sales: Api) -> None:
    contacts = (FIXTURES / "hubspot-contacts.csv").read_bytes()
    proposal = _post(sales, "/api/crm/import/contacts/mapping", contacts)
    targets = {c["source"]: c["target"] for c in proposal["columns"]}
    assert targets == {
        "Record ID": None, "First Name": "first_name", "Last Name": "last_name", "Email": "email",
        "Phone Number": "phone", "Company Name": "company_name", "Job Title": "title", "Lifecycle Stage": None,
        "Contact owner": None, "Create Date": None, "Last Activity Date": None, "Lead Status": None,
        "Marketing contact status": None,
    }
    assert proposal["rows"] == 6 and proposal["required"] == ["first_name"]
    assert next(c for c in proposal["columns"] if c["source"] == "Last Name")["samples"] == [
        "Lindqvist", "Öztürk", "Dubois"]

    companies = _post(sales, "/api/crm/import/companies/mapping", (FIXTURES / "hubspot-companies.csv").read_bytes())
    assert {c["source"]: c["target"] for c in companies["columns"] if c["target"]} == {
        "Company name": "name", "Company Domain Name": "domain", "Phone Number": "phone", "Industry": "industry",
        "Number of Employees": "size"}

    people = _post(sales, "/api/crm/import/contacts/mapping", (FIXTURES / "pipedrive-people.csv").read_bytes())
    assert {c["source"]: c["target"] for c in people["columns"] if c["target"]} == {
        "Person - Name": "full_name", "Person - Organization": "company_name", "Person - Email - Work": "email",
        "Person - Phone - Work": "phone"}


def test_hubspot_exports_import_without_editing_and_again_as_updates(sales: Api) -> None:
    companies_file = (FIXTURES / "hubspot-companies.csv").read_bytes()
    proposal = _post(sales, "/api/crm/import/companies/mapping", companies_file)
    first = _post(sales, "/api/crm/import/companies", companies_file, mapping=_mapping(proposal))
    assert (first["rows"], first["refused"], first["created"] + first["updated"]) == (4, 0, 4), first["report"]
    assert [r["row"] for r in first["report"]] == [2, 3, 4, 5]
    nordwind = sales.ok("GET", "/api/crm/companies", params={"q": "Nordwind Logistik"})["items"]
    assert [(c["domain"], c["size"]) for c in nordwind] == [("nordwind-logistik.example", 250)]
    lumiere = sales.ok("GET", "/api/crm/companies", params={"q": "Atelier Lumi"})["items"][0]
    assert lumiere["domain"] == "atelier-lumiere.example"  # "www." taken off
    bright = sales.ok("GET", "/api/crm/companies", params={"q": "BrightPath"})["items"][0]
    assert bright["domain"] == "brightpath.example"  # "https://...//" taken off

    contacts_file = (FIXTURES / "hubspot-contacts.csv").read_bytes()
    mapping = _mapping(_post(sales, "/api/crm/import/contacts/mapping", contacts_file))
    preview = _post(sales, "/api/crm/import/contacts/preview", contacts_file, mapping=mapping)
    assert preview["refused"] == 0 and preview["rows"] == 6 and len(preview["items"]) == 6
    jonas = preview["items"][1]
    assert jonas["row"] == 3 and jonas["values"]["last_name"] == "Öztürk"
    assert jonas["values"]["company_name"] == "Nordwind Logistik GmbH" and "Lifecycle Stage" not in jonas["values"]

    result = _post(sales, "/api/crm/import/contacts", contacts_file, mapping=mapping)
    assert (result["refused"], result["created"] + result["updated"]) == (0, 6), result["report"]
    maya = sales.ok("GET", "/api/crm/contacts", params={"q": "maya.lindqvist@nordwind-logistik.example"})["items"]
    assert len(maya) == 1 and maya[0]["company_id"] == nordwind[0]["id"] and maya[0]["phone"] == "+49 30 1234567"
    assert maya[0]["title"] == "Head of Operations"

    again = _post(sales, "/api/crm/import/contacts", contacts_file, mapping=mapping)  # the same file again
    assert (again["created"], again["updated"], again["refused"]) == (0, 6, 0)
    assert sorted(again["ids"]) == sorted(result["ids"])  # updated in place, nothing duplicated
    assert len(sales.ok("GET", "/api/crm/contacts", params={"q": "maya.lindqvist"})["items"]) == 1


def test_preview_writes_nothing_and_commit_reports_created_updated_refused(sales: Api) -> None:
    s = suffix()
    known = sales.ok("POST", "/api/crm/contacts", 201, json={"first_name": "Old", "email": f"known-{s}@up.example",
                                                             "title": "Intern"})
    text = ("Name,E-mail Address,Job Title,Organization,Contact owner\n"
            f"Neu Person {s},new-{s}@up.example,CTO,Upsert Org {s},Anna\n"
            f"Known Again,known-{s}@up.example,Director,,\n"
            f"Bad Mail {s},not-an-email,,,\n"
            f",nameless-{s}@up.example,,,\n"
            f"Short {s}\n").encode()
    proposal = _post(sales, "/api/crm/import/contacts/mapping", text)
    mapping = _mapping(proposal)
    assert json.loads(mapping) == {"Name": "full_name", "E-mail Address": "email", "Job Title": "title",
                                   "Organization": "company_name", "Contact owner": None}
    preview = _post(sales, "/api/crm/import/contacts/preview", text, mapping=mapping)
    assert (preview["created"], preview["updated"], preview["refused"]) == (1, 1, 3)
    assert [p["row"] for p in preview["problems"]] == [4, 5, 6]
    assert preview["items"][0]["values"] == {"full_name": f"Neu Person {s}", "email": f"new-{s}@up.example",
                                             "title": "CTO", "company_name": f"Upsert Org {s}"}
    assert preview["problems"][0]["field"] == "email" and "expected 5 values" in preview["problems"][2]["message"]
    # Nothing was written by the preview: no contact, no company, the known contact unchanged.
    assert sales.ok("GET", "/api/crm/contacts", params={"q": f"new-{s}@up.example"})["total"] == 0
    assert sales.ok("GET", "/api/crm/companies", params={"q": f"Upsert Org {s}"})["total"] == 0
    assert sales.ok("GET", f"/api/crm/contacts/{known['id']}")["title"] == "Intern"

    result = _post(sales, "/api/crm/import/contacts", text, mapping=mapping)
    assert (result["created"], result["updated"], result["refused"]) == (1, 1, 3)
    report = {r["row"]: r for r in result["report"]}
    assert report[2]["action"] == "created" and "created" in report[2]["message"]  # its company was created too
    assert report[3] == {"row": 3, "action": "updated", "id": known["id"], "field": None, "message": None}
    assert [report[n]["action"] for n in (4, 5, 6)] == ["refused"] * 3
    assert report[5]["field"] == "first_name"
    updated = sales.ok("GET", f"/api/crm/contacts/{known['id']}")
    assert (updated["first_name"], updated["last_name"], updated["title"]) == ("Known", "Again", "Director")
    created = sales.ok("GET", f"/api/crm/contacts/{report[2]['id']}")
    company = sales.ok("GET", f"/api/crm/companies/{created['company_id']}")
    assert (created["first_name"], created["last_name"], company["name"]) == ("Neu", f"Person {s}",
                                                                              f"Upsert Org {s}")

    refuse = _post(sales, "/api/crm/import/contacts", text, mapping=mapping, on_match="refuse")
    assert refuse["created"] == 0 and refuse["updated"] == 0 and refuse["refused"] == 5


def test_bad_mappings_are_precise_422s(sales: Api, viewer: Api) -> None:
    body = b"Name,Email\nAda,ada@x.example\n"
    cases = [
        ("{", "not valid JSON"),
        ('["Name"]', "JSON object"),
        ('{"Nope": "email"}', "does not have"),
        ('{"Name": "colour"}', "Unknown fields"),
        ('{"Name": "email", "Email": "email"}', "one column only"),
        ('{"Email": "email"}', "Missing required columns"),
    ]
    for mapping, message in cases:
        response = sales.post("/api/crm/import/contacts/preview", content=body, headers=CSV,
                              params={"mapping": mapping})
        assert response.status_code == 422 and message in response.json()["detail"], (mapping, response.text)
    header_only = sales.post("/api/crm/import/contacts/mapping", content=b"Name,Email\n", headers=CSV)
    assert header_only.status_code == 422 and "no rows" in header_only.json()["detail"]
    assert viewer.post("/api/crm/import/contacts/mapping", content=body, headers=CSV).status_code == 403
    assert viewer.post("/api/crm/import/contacts/preview", content=body, headers=CSV).status_code == 403
