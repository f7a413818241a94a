"""CSV import/export: row-level errors, never half a row, malformed files refused whole, round trip."""

import csv
import io

from tests.crm.helpers import suffix
from tests.support import Api

CSV = {"Content-Type": "text/csv"}


def _import(api: Api, entity: str, text: str, expected: int = 200, **params: str) -> dict:  # type: ignore[type-arg]
    response = api.post(f"/api/crm/import/{entity}", content=text.encode(), headers=CSV, params=params)
    assert response.status_code == expected, response.text
    return response.json()  # type: ignore[no-any-return]


def test_company_import_reports_bad_rows_and_imports_the_good_ones(sales: Api) -> None:
    s = suffix()
    existing = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Taken {s}", "domain": f"taken-{s}.example"})
    text = (
        "name,domain,email,size\n"
        f"Good One {s},good1-{s}.example,info@good1-{s}.example,12\n"
        f",nameless-{s}.example,,\n"                     # line 3: name missing
        f"Bad Size {s},badsize-{s}.example,,-4\n"       # line 4: size < 1
        f"Dup {s},taken-{s}.example,,\n"                 # line 5: duplicate domain
        f"Short {s},short-{s}.example\n"                 # line 6: too few values
        "\n"
        f"\"Good, Two {s}\",good2-{s}.example,,\n"       # quoted comma
    )
    result = _import(sales, "companies", text, on_match="refuse")  # a known domain refused, not updated
    assert (result["rows"], result["imported"], result["failed"]) == (6, 2, 4)
    errors = {e["row"]: e for e in result["errors"]}
    assert set(errors) == {3, 4, 5, 6}
    assert errors[3]["field"] == "name" and errors[4]["field"] == "size"
    assert "already exists" in errors[5]["message"] and "expected 4 values" in errors[6]["message"]
    names = {c["name"] for c in sales.ok("GET", "/api/crm/companies", params={"q": s, "limit": 50})["items"]}
    assert names == {f"Taken {s}", f"Good One {s}", f"Good, Two {s}"}  # nothing from the failed rows
    assert existing["id"] not in result["ids"]


def test_all_or_nothing_and_malformed_files_are_refused_whole(sales: Api) -> None:
    s = suffix()
    refused = sales.post("/api/crm/import/companies", params={"all_or_nothing": "true"}, headers=CSV,
                         content=f"name,size\nFine {s},3\nBroken {s},zero\n".encode())
    assert refused.status_code == 422 and refused.json()["errors"][0]["row"] == 3
    assert sales.ok("GET", "/api/crm/companies", params={"q": f"Fine {s}"})["total"] == 0
    malformed = [
        (b"", "empty"),
        (b"name,colour\nx,red\n", "Unknown columns"),
        (b"domain\nx.example\n", "Missing required columns"),
        (f"name,domain\n\"Open quote {s},x.example\n".encode(), "Malformed CSV"),
        (b"name\n\xff\xfe broken\n", "UTF-8"),
        (b"name,name\na,b\n", "twice"),
    ]
    for body, message in malformed:
        response = sales.post("/api/crm/import/companies", content=body, headers=CSV)
        assert response.status_code == 422, body
        assert message in response.json()["detail"], response.json()
    assert sales.post("/api/crm/import/widgets", content=b"name\nx\n", headers=CSV).status_code == 422
    assert sales.ok("GET", "/api/crm/companies", params={"q": f"Open quote {s}"})["total"] == 0


def test_contacts_leads_and_deals_import_with_references(sales: Api, viewer: Api) -> None:
    s = suffix()
    company = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Ref {s}", "domain": f"ref-{s}.example"})
    contacts = _import(sales, "contacts", "first_name,last_name,email,company_domain\n"
                                          f"Ann,Ref,ann-{s}@ref.example,ref-{s}.example\n"
                                          f"Bob,Ref,bob-{s}@ref.example,nowhere-{s}.example\n")
    assert contacts["imported"] == 1 and contacts["errors"][0]["field"] == "company_domain"
    contact = sales.ok("GET", f"/api/crm/contacts/{contacts['ids'][0]}")
    assert contact["company_id"] == company["id"]

    leads = _import(sales, "leads", "first_name,email,company_name,company_size\n"
                                    f"Lea,lea-{s}@corp.example,Corp {s},300\n"
                                    f"Nobody,not-an-email,Corp,1\n")
    assert leads["imported"] == 1 and leads["errors"][0]["row"] == 3
    lead = sales.ok("GET", f"/api/crm/leads/{leads['ids'][0]}")
    assert lead["source"] == "import" and lead["score"] > 0

    billing = '"{""type"": ""fixed"", ""installments"": 2, ""start_date"": ""2027-01-01""}"'
    deals = _import(sales, "deals", "title,company_domain,contact_email,amount,currency,stage,expected_close_date,"
                                    "billing\n"
                                    f"Deal A {s},ref-{s}.example,ann-{s}@ref.example,1500.00,EUR,Proposal,2027-02-01,"
                                    f"{billing}\n"
                                    f"Deal B {s},ref-{s}.example,,-5,EUR,,,\n"
                                    f"Deal C {s},ref-{s}.example,,10,EUR,Nonexistent,,\n"
                                    f"Deal D {s},ref-{s}.example,,10,XYZ,,,\n")
    assert deals["imported"] == 1 and [e["row"] for e in deals["errors"]] == [3, 4, 5]
    deal = sales.ok("GET", f"/api/crm/deals/{deals['ids'][0]}")
    assert deal["amount"] == "1500.00" and deal["contact_id"] == contact["id"]
    assert deal["stage_id"] == "00000000-0000-4000-8000-000000000103" and deal["billing"]["installments"] == 2
    assert viewer.post("/api/crm/import/companies", content=b"name\nx\n", headers=CSV).status_code == 403


def test_export_round_trips(sales: Api, viewer: Api) -> None:
    s = suffix()
    company = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Export, \"Quoted\" {s}",
                                                                 "domain": f"export-{s}.example", "size": 7})
    deal = sales.new_deal(company["id"], amount="99.90")
    response = viewer.get("/api/crm/export/companies")  # everyone may read
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    mine = next(r for r in rows if r["id"] == company["id"])
    assert mine["name"] == f"Export, \"Quoted\" {s}" and mine["size"] == "7"
    deals = list(csv.DictReader(io.StringIO(sales.get("/api/crm/export/deals").text)))
    exported = next(r for r in deals if r["id"] == deal["id"])
    assert (exported["amount"], exported["stage"], exported["status"]) == ("99.90", "Lead in", "open")
    for entity in ("contacts", "leads"):
        assert sales.get(f"/api/crm/export/{entity}").status_code == 200

    # An exported file imports back (export-only columns are ignored): the domain is known, so the company is
    # updated rather than duplicated (or, with on_match=refuse, the row is a precise error).
    exported_file = ("id,name,domain,email,phone,address,industry,size,owner_id,created_at\n"
                     f"{company['id']},Copy {s},export-{s}.example,,,,,7,,2026-01-01T00:00:00+00:00\n")
    refused = _import(sales, "companies", exported_file, on_match="refuse")
    assert refused["failed"] == 1 and "already exists" in refused["errors"][0]["message"]
    again = _import(sales, "companies", exported_file)
    assert (again["created"], again["updated"], again["refused"]) == (0, 1, 0) and again["ids"] == [company["id"]]
    assert sales.ok("GET", f"/api/crm/companies/{company['id']}")["name"] == f"Copy {s}"
