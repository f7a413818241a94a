"""Automatic posting: each business fact posts its entry once, in the transaction of the change."""

from decimal import Decimal
from typing import Any

from devstack.stack import Stack
from tests.erp_billing.helpers import issued, line, pay
from tests.erp_books.books import balances, entries_of, open_receivables, trial_balance_difference
from tests.support import Api

AR, BANK, VAT_OUT, REVENUE, LATE_FEES = "1100", "1000", "2200", "4000", "4200"


def test_issue_posts_receivable_revenue_per_line_and_vat_per_rate(finance: Api, project: dict[str, Any]) -> None:
    invoice = issued(finance, project, [line("Design", "2", "100.00", "19"), line("Hosting", "1", "50.00", "7"),
                                        line("Workshop", "1", "300.00", "19")])
    [entry] = entries_of(finance, invoice["id"])
    assert entry["source_type"] == "invoice" and entry["kind"] == "issued"
    by = [(x["account_code"], x["debit"], x["credit"], x["tax_rate"]) for x in entry["lines"]]
    assert by[0] == (AR, "648.5000", "0.0000", None)  # 550 net + 95 (19 % of 500) + 3.50
    revenue = [x for x in entry["lines"] if x["account_code"] == REVENUE]
    assert [x["description"] for x in revenue] == ["Design", "Hosting", "Workshop"]
    vat = sorted((Decimal(x["tax_rate"]), Decimal(x["credit"])) for x in entry["lines"]
                 if x["account_code"] == VAT_OUT)
    assert vat == [(Decimal(7), Decimal("3.50")), (Decimal(19), Decimal("95.00"))]
    assert balances(finance, project["client_id"])[AR] == Decimal("648.50")


def test_payment_posts_bank_against_receivable_and_the_books_match_the_aging(
        finance: Api, project: dict[str, Any]) -> None:
    invoice = issued(finance, project, [line(unit_price="1000.00")])
    payment = pay(finance, invoice["id"], "400.00")
    [entry] = entries_of(finance, payment["payment"]["id"])
    assert {(x["account_code"], x["debit"], x["credit"]) for x in entry["lines"]} == {
        (BANK, "400.0000", "0.0000"), (AR, "0.0000", "400.0000")}
    books = balances(finance, project["client_id"])
    assert books[AR] == Decimal("600.00") == open_receivables(finance, project["client_id"])
    assert books[BANK] == Decimal("400.00")
    assert trial_balance_difference(finance, client_id=project["client_id"], currency="EUR") == 0


def test_void_reverses_and_credit_note_mirrors(finance: Api, project: dict[str, Any]) -> None:
    voided = issued(finance, project, [line(unit_price="200.00", tax_rate="19")])
    finance.ok("POST", f"/api/erp/invoices/{voided['id']}/void", json={"reason": "wrong client"})
    issue_entry, void_entry = sorted(entries_of(finance, voided["id"]), key=lambda e: e["number"])
    assert void_entry["kind"] == "voided" and void_entry["reverses_id"] == issue_entry["id"]
    assert [(x["debit"], x["credit"]) for x in void_entry["lines"]] == [
        (x["credit"], x["debit"]) for x in issue_entry["lines"]]

    credited = issued(finance, project, [line(unit_price="500.00", tax_rate="19")])
    note = finance.ok("POST", f"/api/erp/invoices/{credited['id']}/credit-note", 201,
                      json={"amount": "119.00", "reason": "goodwill"})
    [entry] = entries_of(finance, note["id"])
    assert entry["source_type"] == "credit_note"
    assert {x["account_code"]: (x["debit"], x["credit"]) for x in entry["lines"]}[AR] == ("0.0000", "119.0000")
    books = balances(finance, project["client_id"])
    assert books[AR] == Decimal("476.00") == open_receivables(finance, project["client_id"])
    assert trial_balance_difference(finance, client_id=project["client_id"], currency="EUR") == 0


def test_a_replayed_fact_posts_nothing_twice(stack: Stack, finance: Api, project: dict[str, Any]) -> None:
    """A second posting of the same (source, kind), as a replayed request or handler would make, writes no entry:
    the unique key holds, even against the database directly."""
    invoice = issued(finance, project, [line(unit_price="80.00")])
    [entry] = entries_of(finance, invoice["id"])
    assert stack.postgres is not None
    stack.postgres.psql("erp", f"""
        INSERT INTO journal_entries (id, entry_date, fact_date, source_type, source_id, kind)
        VALUES (gen_random_uuid(), CURRENT_DATE, CURRENT_DATE, 'invoice', '{invoice["id"]}', 'issued')
        ON CONFLICT (source_type, source_id, kind) WHERE source_id IS NOT NULL DO NOTHING""")
    assert [e["id"] for e in entries_of(finance, invoice["id"])] == [entry["id"]]


def test_reverse_charge_sales_book_to_their_own_revenue_account_without_vat(
        finance: Api, project: dict[str, Any]) -> None:
    rates = finance.ok("GET", "/api/erp/tax-rates", params={"limit": 200})["items"]
    reverse = next((r for r in rates if r["category"] == "reverse_charge" and r["active"]), None) or finance.ok(
        "POST", "/api/erp/tax-rates", 201, json={"name": "Reverse charge (EU B2B)", "category": "reverse_charge",
                                                 "percent": "0", "legal_note": "VAT due by the recipient"})
    draft = finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"], "lines": [
        {"description": "Strategy", "quantity": "1", "unit_price": "800.00", "tax_rate_id": reverse["id"]},
        line("Domestic work", "1", "100.00", "19")]})
    invoice = finance.ok("POST", f"/api/erp/invoices/{draft['id']}/issue")
    [entry] = entries_of(finance, invoice["id"])
    by_code = {(x["account_code"], x["description"]): x["credit"] for x in entry["lines"] if x["credit"] != "0.0000"}
    assert by_code == {("4100", "Strategy"): "800.0000", (REVENUE, "Domestic work"): "100.0000",
                       (VAT_OUT, "VAT 19 %"): "19.0000"}
