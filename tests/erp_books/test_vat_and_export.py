"""The VAT report and the journal export (issue 26, "VAT and the accountant"): the report's totals are the balances
of the tax accounts (2200, 2210, 1400, 1410) in the trial balance over the same range on the same data (bills and
expenses with VAT among them), and the exports (our CSV, DATEV's EXTF) parse back to the trial balance's figures and
are the same bytes twice."""

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, fixed, issued, line, project_for, today
from tests.erp_books.books import trial_rows, vat, vat_delta, vat_reconciles, vat_rows
from tests.erp_cash.helpers import company_in_eur, new_bill, new_vendor, tax_rate
from tests.erp_costs.helpers import as_role as service_role
from tests.erp_costs.helpers import new_expense, sql, upload_receipt
from tests.support import Api

D = Decimal


@pytest.fixture(scope="module")
def booked(stack: Stack, admin: Api, finance: Api) -> Iterator[dict[str, Any]]:
    """Today's VAT facts: invoices at 19 %, 7 % and reverse charge, a credit note, a bill with VAT at two rates, a
    reverse-charge bill, an approved expense without VAT and one at 19 %; with the VAT report before and after them.
    The reverse-charge bill self-assesses at the default rate, so 19 % is made the default while they are booked
    (whichever rate other tests left as the default is the default again afterwards)."""
    company_in_eur(finance)
    day = today().isoformat()
    before = vat(finance, date_from=day, date_to=day)
    project = project_for(admin, fixed(1, today().replace(year=today().year + 1)), amount="9000.00")
    reverse = tax_rate(finance, "reverse_charge", "0")
    standard, reduced = tax_rate(finance, "standard", "19"), tax_rate(finance, "standard", "7")
    previous = [r for r in finance.ok("GET", "/api/erp/tax-rates", params={"limit": 200})["items"] if r["is_default"]]
    finance.ok("PATCH", f"/api/erp/tax-rates/{standard['id']}", json={"is_default": True})
    issued(finance, project, [line("Design", "2", "500.00", "19"), line("Books", "1", "100.00", "7")])
    b = finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"], "lines": [
        {"description": "Strategy (EU B2B)", "quantity": "1", "unit_price": "800.00", "tax_rate_id": reverse["id"]},
        line("Domestic work", "1", "100.00", "19")]})
    b = finance.ok("POST", f"/api/erp/invoices/{b['id']}/issue")
    note = finance.ok("POST", f"/api/erp/invoices/{b['id']}/credit-note", 201, json={
        "reason": "discount", "lines": [line("Domestic work, discount", "1", "50.00", "19")]})
    # A voided invoice: its reversal takes its VAT out again in the same month.
    mistake = issued(finance, project, [line("Mistake", "1", "999.00", "19")])
    finance.ok("POST", f"/api/erp/invoices/{mistake['id']}/void", json={"reason": "typo"})
    pm = as_role(stack, "project_manager")
    vendor = new_vendor(finance)
    for lines in ([{"description": "Licences", "unit_price": "500.00", "tax_rate_id": standard["id"]},
                   {"description": "Print", "unit_price": "100.00", "tax_rate_id": reduced["id"]}],
                  [{"description": "EU cloud", "unit_price": "200.00", "tax_rate_id": reverse["id"]}]):
        bill = new_bill(finance, vendor["id"], lines, bill_date=day)
        finance.ok("POST", f"/api/erp/bills/{bill['id']}/submit")
        pm.ok("POST", f"/api/erp/bills/{bill['id']}/approve")
    submitter, approver = service_role(stack, "project_manager"), service_role(stack, "finance")
    # Expenses: one without a rate (gross, nothing in the report), one at 19 % (119.00 paid: 19.00 input VAT).
    for fields in ({"amount": "42.00"}, {"amount": "119.00", "tax_rate_id": standard["id"]}):
        expense = new_expense(submitter, project_id=project["id"], expense_date=day, **fields)
        upload_receipt(submitter, expense["id"])
        submitter.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
        approver.ok("POST", f"/api/erp/expenses/{expense['id']}/approve", json={})
    yield {"before": before, "after": vat(finance, date_from=day, date_to=day), "note": note, "day": day}
    for rate in previous:
        finance.ok("PATCH", f"/api/erp/tax-rates/{rate['id']}", json={"is_default": True})
    if not previous:
        finance.ok("PATCH", f"/api/erp/tax-rates/{standard['id']}", json={"is_default": False})


def test_vat_report_per_rate_with_reverse_charge_apart(booked: dict[str, Any]) -> None:
    before, after = booked["before"], booked["after"]
    assert booked["note"]["kind"] == "credit_note"
    # Output: 19 % on 1000 + 100 - the credit note's 50; 7 % on 100. The reverse-charge sale has no VAT, apart.
    assert vat_delta(vat_rows(after, "output"), vat_rows(before, "output")) == {
        (D(19), "standard"): (D("1050.00"), D("199.50")), (D(7), "standard"): (D("100.00"), D("7.00"))}
    assert vat_delta(vat_rows(after, "reverse_charge_sales"), vat_rows(before, "reverse_charge_sales")) == {
        (D(0), "reverse_charge"): (D("800.00"), D(0))}
    # Input: the bill's VAT per rate and the 19 % expense's (net 100.00, VAT 19.00 in its 119.00); the expense
    # without a rate adds nothing (the notes say so).
    assert vat_delta(vat_rows(after, "input"), vat_rows(before, "input")) == {
        (D(19), "standard"): (D("600.00"), D("114.00")), (D(7), "standard"): (D("100.00"), D("7.00"))}
    assert any("without a rate" in n for n in after["notes"])
    # The reverse-charge purchase: 200 at the default rate (19 %), owed and deducted again.
    rc = {D(r["tax_rate"]): r for p in after["periods"] for r in p["reverse_charge_purchases"]}
    rc_before = {D(r["tax_rate"]): r for p in before["periods"] for r in p["reverse_charge_purchases"]}
    old = rc_before.get(D(19), {"taxable_base": "0", "output_tax": "0", "input_tax": "0"})
    assert (D(rc[D(19)]["taxable_base"]) - D(old["taxable_base"]), D(rc[D(19)]["output_tax"]) - D(old["output_tax"]),
            D(rc[D(19)]["input_tax"]) - D(old["input_tax"])) == (D("200.00"), D("38.00"), D("38.00"))
    net = D(after["totals"]["net_payable"]) - D(before["totals"]["net_payable"])
    assert net == D("199.50") + D("7.00") - D("95.00") - D("19.00") - D("7.00")
    [period] = after["periods"]
    assert period["period"] == booked["day"][:7] and period["date_from"] == period["date_to"] == booked["day"]


def test_vat_report_reconciles_with_the_tax_accounts(finance: Api, booked: dict[str, Any]) -> None:
    day = booked["day"]
    vat_reconciles(finance, date_from=day, date_to=day)
    everything = vat_reconciles(finance)
    assert D(everything["totals"]["output_tax"]) > 0 and D(everything["totals"]["reverse_charge_input_tax"]) > 0
    quarters = vat_reconciles(finance, date_from=f"{day[:4]}-01-01", date_to=day, period="quarter")
    assert all("-Q" in p["period"] for p in quarters["periods"])


def test_vat_report_reads_for_finance_and_viewer_only_and_refuses_bad_input(stack: Stack, finance: Api) -> None:
    with as_role(stack, "viewer") as viewer:
        assert viewer.client.get("/api/erp/reports/vat", params={"currency": "EUR"}).status_code == 200
    with as_role(stack, "project_manager") as pm:
        assert pm.client.get("/api/erp/reports/vat", params={"currency": "EUR"}).status_code == 403
    for params in ({"period": "week"}, {"date_from": "2026-05-01", "date_to": "2026-04-01"}, {"currency": "euro"}):
        response = finance.client.get("/api/erp/reports/vat", params={"currency": "EUR", **params})
        assert response.status_code == 422, params


def _export(api: Api, **params: str) -> bytes:
    response = api.client.get("/api/erp/exports/journal", params=params)
    assert response.status_code == 200, response.text
    return response.content


def test_journal_csv_parses_back_to_the_trial_balance_and_is_stable(finance: Api, booked: dict[str, Any]) -> None:
    day = booked["day"]
    first = _export(finance, date_from=day, date_to=day, format="csv")
    assert first == _export(finance, date_from=day, date_to=day, format="csv")
    rows = list(csv.DictReader(io.StringIO(first.decode("utf-8"), newline="")))
    assert list(rows[0]) == ["entry_number", "entry_date", "fact_date", "source_type", "source_id", "kind", "line",
                             "account_code", "account_name", "currency", "debit", "credit", "tax_rate",
                             "tax_category", "client_id", "project_id", "cost_center_id", "description", "memo"]
    sums: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(lambda: [D(0), D(0)]))
    for row in rows:
        assert row["entry_date"] == day
        sums[row["currency"]][row["account_code"]][0] += D(row["debit"])
        sums[row["currency"]][row["account_code"]][1] += D(row["credit"])
    trial = trial_rows(finance, date_from=day, date_to=day)
    assert {code: (t["debit"], t["credit"]) for code, t in trial.items()} == \
        {code: (d, c) for code, (d, c) in sums["EUR"].items()}
    # Tax columns: the bill's input VAT at 7 % is there with its rate.
    assert any(r["account_code"] == "1400" and r["tax_rate"] == "7" and r["source_type"] == "bill" for r in rows)
    numbers = [int(r["entry_number"]) for r in rows]
    assert numbers == sorted(numbers)


def _datev(content: bytes) -> tuple[list[str], list[str], list[list[str]]]:
    text = content.decode("cp1252")
    assert text.endswith("\r\n")
    header, headings, *rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return header, headings, rows


def test_datev_export_balances_per_account_and_is_byte_identical(stack: Stack, finance: Api,
                                                                 booked: dict[str, Any]) -> None:
    day = booked["day"]
    # Account numbers of up to 8 digits: another test books to a 7-digit account today.
    params = {"date_from": day, "date_to": day, "format": "datev", "consultant_number": "29098",
              "client_number": "55003", "account_length": "8"}
    first = _export(finance, **params)
    assert first == _export(finance, **params)
    header, headings, rows = _datev(first)
    assert header[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
    assert len(header) == 31 and header[10:16] == ["29098", "55003", f"{day[:4]}0101", "8", day.replace("-", ""),
                                                   day.replace("-", "")]
    assert header[21] == "EUR"
    latest = sql(stack, f"SELECT to_char(max(created_at) AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSMS') "
                        f"FROM journal_entries WHERE entry_date = '{day}'")[0][0]
    assert header[5] == latest  # derived from the entries, not the clock
    assert headings[:14] == ["Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs",
                             "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
                             "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext"]
    balance: dict[str, Decimal] = defaultdict(Decimal)  # debit minus credit per account
    clearing: dict[str, Decimal] = defaultdict(Decimal)  # per entry (Belegfeld 1), on the clearing account
    for row in rows:
        amount = D(row[0].replace(",", "."))
        assert amount > 0 and row[1] in ("S", "H") and row[2] == "EUR" and row[9] == day[8:10] + day[5:7]
        signed = amount if row[1] == "S" else -amount
        balance[row[6]] += signed
        balance[row[7]] -= signed
        if row[7] == "1900":
            clearing[row[10]] -= signed
        assert len(row[13]) <= 60
    trial = trial_rows(finance, date_from=day, date_to=day)
    expected = {code: t["debit"] - t["credit"] for code, t in trial.items()}
    assert {k: v for k, v in balance.items() if v} == {k: v for k, v in expected.items() if v}
    # A reverse-charge bill has several lines on both sides: booked against the clearing account, which nets to 0
    # within the entry. (1900 is also suspense, a real account other entries of the day book to, e.g. a bank line
    # set aside: those entries are one row, so an entry with rows on both sides of 1900 is one that cleared.)
    sides: dict[str, set[bool]] = defaultdict(set)
    for row in rows:
        if "1900" in (row[6], row[7]):
            sides[row[10]].add((row[1] == "S") == (row[6] == "1900"))
    cleared = {k for k, seen in sides.items() if len(seen) == 2}
    assert cleared and all(clearing[k] + sum(D(r[0].replace(",", ".")) * (1 if r[1] == "S" else -1)
                                             for r in rows if r[10] == k and r[6] == "1900") == 0 for k in cleared)


def test_datev_export_refuses_what_datev_cannot_take(stack: Stack, finance: Api, booked: dict[str, Any]) -> None:
    day = booked["day"]
    response = finance.client.get("/api/erp/exports/journal", params={
        "format": "datev", "date_from": f"{int(day[:4]) - 1}-12-01", "date_to": day})
    assert response.status_code == 422 and response.json()["type"].endswith("datev-fiscal-year")
    # A fiscal year from July: the same range lies in one.
    july = finance.client.get("/api/erp/exports/journal", params={
        "format": "datev", "date_from": day, "date_to": day, "fiscal_year_start": "7", "account_length": "8"})
    assert july.status_code == 200
    july_start = f"{day[:4] if int(day[5:7]) >= 7 else int(day[:4]) - 1}0701"
    assert july.content.split(b"\r\n")[0].split(b";")[12] == july_start.encode()
    # Without date_from, a batch starts with the fiscal year of date_to.
    whole_year = finance.client.get("/api/erp/exports/journal", params={
        "format": "datev", "date_to": day, "fiscal_year_start": "7", "account_length": "8"})
    assert whole_year.status_code == 200 and whole_year.content.split(b"\r\n")[0].split(b";")[14] == \
        july_start.encode()
    account = finance.ok("POST", "/api/erp/accounts", 201, json={
        "code": f"7{uuid.uuid4().int % 10**6:06d}", "name": "Long number", "type": "expense"})
    finance.ok("POST", "/api/erp/journal-entries", 201, json={"entry_date": day, "memo": "=cmd| long\ncode", "lines": [
        {"account_id": account["id"], "currency": "EUR", "debit": "1.00"},
        {"account_id": finance.ok("GET", "/api/erp/accounts", params={"q": "Suspense"})["items"][0]["id"],
         "currency": "EUR", "credit": "1.00"}]})
    refused = finance.client.get("/api/erp/exports/journal", params={"format": "datev", "date_from": day,
                                                                     "date_to": day, "account_length": "4"})
    assert refused.status_code == 422 and account["code"] in refused.json()["detail"]
    # Without a length, the longest number exported sets it (7 here), in the header's Sachkontenlänge.
    derived = _export(finance, format="datev", date_from=day, date_to=day)
    assert derived.split(b"\r\n")[0].split(b";")[13] == b"7"
    longer = _export(finance, format="datev", date_from=day, date_to=day, account_length="8")
    memo = [r for r in _datev(longer)[2] if account["code"] in (r[6], r[7])]
    assert memo and memo[0][13] == "'=cmd| long code"  # never a formula in a spreadsheet, one line
    for bad in ({"format": "xml"}, {"consultant_number": "12"}, {"clearing_account": "12ab"}):
        assert finance.client.get("/api/erp/exports/journal", params=bad).status_code == 422, bad
    with as_role(stack, "project_manager") as pm:
        assert pm.client.get("/api/erp/exports/journal").status_code == 403
