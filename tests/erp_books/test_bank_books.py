"""Bank lines in the books (issue 26): a real CAMT.053 statement imported through the gateway, what matching left
reconciled by hand through the API, and then the bank account's balance in the trial balance is the statement's
closing balance; the same file imported again changes nothing; a debit that is a bill payment posts once; every
wrong request refused precisely."""

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, fixed, issued, line, pay, project_for, today
from tests.erp_books.bank_books import german_iban, paid_bill, quiet_values, statement_data
from tests.erp_cash.helpers import company_in_eur
from tests.support import Api

STATEMENTS = "/api/erp/bank-statements"
LINES = "/api/erp/bank-lines"
SUSPENSE = "1900"


def amount(low: int = 1000, high: int = 89999) -> str:
    return f"{random.randint(low, high)}.{random.randint(1, 99):02d}"


def upload(api: Api, data: bytes, expected: int) -> dict[str, Any]:
    response = api.client.post(STATEMENTS, files={"file": ("auszug.xml", data, "application/xml")})
    assert response.status_code == expected, response.text
    result: dict[str, Any] = response.json()
    return result


def account(api: Api, code: str) -> dict[str, Any]:
    found = [a for a in api.ok("GET", "/api/erp/accounts", params={"q": code, "limit": 50})["items"]
             if a["code"] == code]
    assert found, code
    return found[0]  # type: ignore[no-any-return]


def statement_code(api: Api, ledger_account_id: str) -> str:
    return api.ok("GET", f"/api/erp/accounts/{ledger_account_id}")["code"]  # type: ignore[no-any-return]


def bank_balance(api: Api, ledger_account_id: str, on: str) -> Decimal:
    report = api.ok("GET", "/api/erp/reports/trial-balance", params={"currency": "EUR", "date_to": on})
    rows = [row for row in report["rows"] if row["account_id"] == ledger_account_id]
    return Decimal(rows[0]["balance"]) if rows else Decimal(0)


def journal_size(api: Api) -> int:
    return int(api.ok("GET", "/api/erp/journal-entries", params={"limit": 1})["total"])


def by_position(api: Api, statement_id: str) -> dict[int, dict[str, Any]]:
    items = api.ok("GET", LINES, params={"statement_id": statement_id, "limit": 50})["items"]
    return {item["position"]: item for item in items}


def entries_of(api: Api, source_id: str) -> list[dict[str, Any]]:
    return api.ok("GET", "/api/erp/journal-entries",  # type: ignore[no-any-return]
                  params={"source_id": source_id, "limit": 50})["items"]


def new_invoice(admin: Api, finance: Api, value: str) -> dict[str, Any]:
    project = project_for(admin, fixed(1, today() + timedelta(days=400)), amount="90000.00")
    return issued(finance, project, [line(unit_price=value)])


@pytest.fixture(scope="module")
def approver(stack: Stack) -> Any:
    with as_role(stack, "finance", user_id="finance-bank-books-approver") as api:
        yield api


@pytest.fixture(scope="module", autouse=True)
def main_account_linked(finance: Api) -> None:
    """The company's main bank account (linked to 1000 Bank by the first statement ever imported) is another
    account than the tests' own: each test's account is new, with a ledger account of its own that only its
    statement moves (1000 also takes every payment typed by hand, the other tests' too)."""
    company_in_eur(finance)  # bills need the base currency
    upload(finance, statement_data(quiet_values()), 201)


def test_a_reconciled_camt053_statement_leaves_the_bank_account_at_its_closing_balance(
        admin: Api, finance: Api, approver: Api) -> None:
    booked = today()
    inv_1, inv_2, inv_3 = (new_invoice(admin, finance, amount()) for _ in range(3))
    pay(finance, inv_3["id"], inv_3["total"], paid_on=booked.isoformat())  # typed in before the statement
    [typed] = finance.ok("GET", f"/api/erp/invoices/{inv_3['id']}/payments")["items"]
    bill, bill_payment = paid_bill(finance, approver, amount(100, 999))
    values = {
        "tag": uuid.uuid4().hex[:12].upper(), "iban": german_iban(), "booked": booked.isoformat(),
        "opened": (booked - timedelta(days=1)).isoformat(), "opening": "18250.37",
        "amount_1": inv_1["total"], "ref_1": inv_1["payment_reference"],
        "amount_2": inv_2["total"], "ref_2_spaced": " ".join(
            inv_2["payment_reference"][i:i + 4] for i in range(0, len(inv_2["payment_reference"]), 4)),
        "contribution": "5000.00", "amount_3": inv_3["total"], "ref_3": inv_3["payment_reference"],
        "rent": "2150.00", "bill_paid": bill["total"], "bill_reference": bill["vendor_reference"], "fee": "12.90"}
    credits = sum(Decimal(values[k]) for k in ("amount_1", "amount_2", "contribution", "amount_3"))
    debits = sum(Decimal(values[k]) for k in ("rent", "bill_paid", "fee"))
    closing = Decimal(values["opening"]) + credits - debits
    data = statement_data(values | {"closing": f"{closing:.2f}"})

    result = upload(finance, data, 201)
    assert (result["lines"], result["matched"], result["unmatched"], result["debits"]) == (7, 2, 2, 3)
    statement = result["statements"][0]["statement"]
    assert Decimal(statement["closing_balance"]) == closing and statement["ledger_account_id"]
    waiting = finance.ok("GET", f"{STATEMENTS}/{statement['id']}")  # the books miss what waits for a person
    assert Decimal(waiting["difference"]) == Decimal(values["contribution"]) + Decimal(values["amount_3"]) - (
        Decimal(values["rent"]) + Decimal(values["bill_paid"]) + Decimal(values["fee"]))
    bank = statement["ledger_account_id"]
    assert bank != account(finance, "1000")["id"]  # a second bank account: a ledger account of its own
    assert account(finance, statement_code(finance, bank))["name"] == f"Bank {values['iban']}"
    lines = by_position(finance, statement["id"])
    assert [lines[n]["status"] for n in range(1, 8)] == [
        "matched", "matched", "unmatched", "unmatched", "debit", "debit", "debit"]
    # The opening entry: the ledger's balance of the account before the statement's day is its opening balance.
    assert bank_balance(finance, bank, values["opened"]) == Decimal(values["opening"])
    [opening] = entries_of(finance, statement["id"])
    assert opening["kind"] == "opening" and opening["entry_date"] == values["opened"]

    # By hand: the owner's money to 3000 equity, the typed payment linked, the rent to 6400, the bill payment linked,
    # the fee to suspense (the default).
    equity, rent = account(finance, "3000"), account(finance, "6400")
    set_aside = finance.ok("POST", f"{LINES}/{lines[3]['id']}/ignore",
                           json={"note": "Capital contribution", "account_id": equity["id"]})
    assert set_aside["status"] == "ignored" and set_aside["ledger_account_id"] == equity["id"]
    offered = finance.ok("GET", f"{LINES}/{lines[4]['id']}/payment-candidates")
    assert offered[0]["payment_id"] == typed["id"] and offered[0]["amount"] == inv_3["total"]
    assert finance.ok("GET", f"{LINES}/{lines[6]['id']}/bill-payment-candidates")[0]["bill_payment_id"] == \
        bill_payment["id"]
    linked = finance.ok("POST", f"{LINES}/{lines[4]['id']}/link", json={"payment_id": typed["id"]})
    assert linked["status"] == "matched" and linked["matches"][0]["method"] == "linked"
    assert linked["matches"][0]["invoice_id"] == inv_3["id"]
    finance.ok("POST", f"{LINES}/{lines[5]['id']}/ignore", json={"note": "Office rent", "account_id": rent["id"]})
    debit = finance.ok("POST", f"{LINES}/{lines[6]['id']}/link", json={"bill_payment_id": bill_payment["id"]})
    assert debit["status"] == "matched" and debit["bill_payment_id"] == bill_payment["id"]
    fee = finance.ok("POST", f"{LINES}/{lines[7]['id']}/ignore", json={"note": "Account fee"})
    assert fee["ledger_account_id"] == account(finance, SUSPENSE)["id"]

    assert bank_balance(finance, bank, values["booked"]) == closing
    agreed = finance.ok("GET", f"{STATEMENTS}/{statement['id']}")
    assert Decimal(agreed["ledger_balance"]) == closing and Decimal(agreed["difference"]) == 0
    # The payments typed by hand posted once: the bill payment's entry is its own, nothing on its line.
    assert sorted(e["kind"] for e in entries_of(finance, bill_payment["id"])) == ["bank_account", "paid"]
    assert sorted(e["kind"] for e in entries_of(finance, typed["id"])) == ["bank_account", "received"]
    assert entries_of(finance, lines[6]["id"]) == [] and entries_of(finance, lines[4]["id"]) == []
    [fee_entry] = entries_of(finance, lines[7]["id"])
    assert {(ln["account_code"], Decimal(ln["debit"]), Decimal(ln["credit"])) for ln in fee_entry["lines"]} == {
        (SUSPENSE, Decimal("12.90"), Decimal(0)), (statement_code(finance, bank), Decimal(0), Decimal("12.90"))}

    # The same file again: nothing new, the books unchanged.
    size = journal_size(finance)
    again = upload(finance, data, 200)
    assert again["statements"][0]["already_imported"] and again["duplicates"] == 7
    assert journal_size(finance) == size and bank_balance(finance, bank, values["booked"]) == closing

    # Reopening a set-aside line reverses its booking; setting it aside again books it once more.
    finance.ok("POST", f"{LINES}/{lines[7]['id']}/reopen")
    assert bank_balance(finance, bank, values["booked"]) == closing + Decimal("12.90")
    finance.ok("POST", f"{LINES}/{lines[7]['id']}/ignore", json={"note": "Account fee", "account_id": rent["id"]})
    assert bank_balance(finance, bank, values["booked"]) == closing
    kinds = sorted(e["kind"] for e in entries_of(finance, lines[7]["id"]))
    assert kinds == ["booked.1", "booked.2", "unbooked.1"]


def test_a_debit_linked_to_a_bill_payment_posts_once_and_wrong_requests_are_refused(
        finance: Api, approver: Api) -> None:
    bill, bill_payment = paid_bill(finance, approver, "432.10")
    other_bill, other_payment = paid_bill(finance, approver, "99.00")
    values = quiet_values(bill_paid=bill["total"], bill_reference=bill["vendor_reference"])
    statement = upload(finance, statement_data(values), 201)["statements"][0]["statement"]
    bank = statement["ledger_account_id"]
    assert bank != account(finance, "1000")["id"]
    lines = by_position(finance, statement["id"])
    debit, credit = lines[6], lines[3]
    before = bank_balance(finance, bank, values["booked"])
    bank_of_bill = entries_of(finance, bill_payment["id"])
    assert [e["kind"] for e in bank_of_bill] == ["paid"]

    def refused(path: str, body: dict[str, Any], status: int, slug: str | None = None) -> None:
        response = finance.client.post(path, json=body)
        assert response.status_code == status, response.text
        if slug:
            assert response.json()["type"].endswith(slug), response.json()

    link, ignore = f"{LINES}/{debit['id']}/link", f"{LINES}/{credit['id']}/ignore"
    refused(link, {"bill_payment_id": str(uuid.uuid4())}, 422, "unknown-bill-payment")
    refused(link, {"bill_payment_id": other_payment["id"]}, 422)  # another amount than the line's
    refused(link, {"payment_id": str(uuid.uuid4())}, 422)  # a debit is a bill payment
    refused(link, {}, 422)  # name one
    refused(f"{LINES}/{credit['id']}/link", {"bill_payment_id": bill_payment["id"]}, 422)
    refused(ignore, {"note": "x", "account_id": str(uuid.uuid4())}, 422, "unknown-account")
    refused(ignore, {"note": "x", "account_id": bank}, 422, "bank-account")
    refused(f"{LINES}/{uuid.uuid4()}/ignore", {"note": "x"}, 404)
    refused(f"{LINES}/{debit['id']}/match", {"allocations": [{"invoice_id": str(uuid.uuid4()), "amount": "1.00"}]},
            409)  # a debit pays no invoice
    usd = finance.ok("POST", "/api/erp/accounts", 201, json={
        "code": f"U{uuid.uuid4().hex[:6]}", "name": "Dollar float", "type": "asset", "currency": "USD"})
    refused(ignore, {"note": "x", "account_id": usd["id"]}, 422, "account-currency")
    assert bank_balance(finance, bank, values["booked"]) == before  # nothing was written

    # Two people linking the same line at once: one wins, the other is told (the line is locked while it is read).
    barrier = threading.Barrier(2)

    def attempt() -> int:
        barrier.wait()
        return finance.client.post(link, json={"bill_payment_id": bill_payment["id"]}).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(lambda _: attempt(), range(2)))
    assert statuses == [200, 409]
    linked = finance.ok("GET", f"{LINES}/{debit['id']}")
    assert linked["status"] == "matched"
    # Once: the line is the payment's, the payment is the line's.
    refused(link, {"bill_payment_id": bill_payment["id"]}, 409)
    refused(f"{LINES}/{lines[5]['id']}/link", {"bill_payment_id": bill_payment["id"]}, 409, "payment-linked")
    refused(f"{LINES}/{debit['id']}/ignore", {"note": "x"}, 409)
    refused(f"{LINES}/{debit['id']}/reopen", {}, 409)
    assert entries_of(finance, debit["id"]) == []
    # Posted once, on 1000 with the payment (typed by hand); moved to the line's bank account by the link.
    assert sorted(e["kind"] for e in entries_of(finance, bill_payment["id"])) == ["bank_account", "paid"]
    assert bank_balance(finance, bank, values["booked"]) == before - Decimal(bill["total"])
    del other_bill


def test_finance_links_a_bank_account_to_another_ledger_account(stack: Stack, finance: Api) -> None:
    values = quiet_values()
    statement = upload(finance, statement_data(values), 201)["statements"][0]["statement"]
    [link] = [a for a in finance.ok("GET", "/api/erp/bank-accounts") if a["account"] == values["iban"]]
    assert link["ledger_account_id"] == statement["ledger_account_id"] and link["currency"] == "EUR"
    path = f"/api/erp/bank-accounts/{link['id']}"
    own = finance.ok("POST", "/api/erp/accounts", 201, json={
        "code": f"B{uuid.uuid4().hex[:6]}", "name": "Girokonto", "type": "asset", "currency": "EUR"})

    def refused(body: dict[str, Any], status: int, slug: str) -> None:
        response = finance.client.put(path, json=body)
        assert response.status_code == status and response.json()["type"].endswith(slug), response.text

    refused({"ledger_account_id": account(finance, "6400")["id"]}, 422, "not-an-asset-account")
    refused({"ledger_account_id": str(uuid.uuid4())}, 422, "unknown-account")
    refused({"ledger_account_id": account(finance, "1000")["id"]}, 409, "bank-account-linked")
    with as_role(stack, "viewer") as viewer:
        assert viewer.client.put(path, json={"ledger_account_id": own["id"]}).status_code == 403
    assert finance.ok("PUT", path, json={"ledger_account_id": own["id"]})["ledger_account_id"] == own["id"]
    assert finance.ok("GET", f"{STATEMENTS}/{statement['id']}")["ledger_account_id"] == own["id"]
    # From now on its lines book there.
    fee = by_position(finance, statement["id"])[7]
    finance.ok("POST", f"{LINES}/{fee['id']}/ignore", json={"note": "Account fee"})
    assert bank_balance(finance, own["id"], values["booked"]) == Decimal("-60.00")
