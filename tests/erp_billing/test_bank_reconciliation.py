"""Bank reconciliation through the gateway, on the real database: statements imported (CAMT.053, MT940, CSV),
credits matched to open invoices and their payments recorded, once however often and however concurrently a
statement is imported; malformed files refused naming the place; what matching leaves settled by hand."""

import random
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from devstack.stack import Stack
from tests.erp_billing import bank_files
from tests.erp_billing.helpers import as_role, fixed, issued, line, project_for, today
from tests.support import Api

STATEMENTS = "/api/erp/bank-statements"
LINES = "/api/erp/bank-lines"


def amount() -> str:
    """An amount no other open invoice of the session has (matching by amount must find only ours)."""
    return f"{random.randint(1000, 899999)}.{random.randint(1, 99):02d}"


def client_invoice(finance: Api, sales: Api, value: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new client (from a won deal whose schedule bills in a year) and an issued invoice of `value` for it."""
    project = project_for(sales, fixed(1, today() + timedelta(days=365)))
    invoice = issued(finance, project, [line(unit_price=value)])
    client = finance.ok("GET", f"/api/erp/clients/{invoice['client_id']}")
    return client, invoice


def another_invoice(finance: Api, like: dict[str, Any], value: str) -> dict[str, Any]:
    """One more issued invoice on the same project (so the same client)."""
    return issued(finance, {"id": like["project_id"]}, [line(unit_price=value)])


def upload(api: Api, data: bytes, name: str = "statement.xml", expected: int | None = 201,
           **form: str) -> dict[str, Any]:
    response = api.client.post(STATEMENTS, files={"file": (name, data, "application/octet-stream")}, data=form)
    if expected is not None:
        assert response.status_code == expected, response.text
    result: dict[str, Any] = response.json()
    return result


def invoice(api: Api, invoice_id: str) -> dict[str, Any]:
    result: dict[str, Any] = api.ok("GET", f"/api/erp/invoices/{invoice_id}")
    return result


def payments(api: Api, invoice_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", f"/api/erp/invoices/{invoice_id}/payments")["items"]
    return items


def lines_of(api: Api, statement_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", LINES, params={"statement_id": statement_id, "limit": 200})["items"]
    return sorted(items, key=lambda x: x["position"])


@pytest.fixture(scope="module")
def a_day(finance: Api, sales: Api) -> dict[str, Any]:
    """Invoices A-E and the camt.053.001.08 statement of a day that pays them (see the fixture's comments)."""
    a_amount, b_amount, c_amount, d_amount, e_amount = amount(), amount(), amount(), amount(), amount()
    client_a, inv_a = client_invoice(finance, sales, a_amount)
    _, inv_b = client_invoice(finance, sales, b_amount)
    client_c, inv_c = client_invoice(finance, sales, c_amount)
    client_d, inv_d1 = client_invoice(finance, sales, d_amount)
    inv_d2 = another_invoice(finance, inv_d1, d_amount)
    client_e, inv_e = client_invoice(finance, sales, e_amount)
    b_paid = (Decimal(b_amount) / 2).quantize(Decimal("0.01"))
    e_paid = Decimal(e_amount) + Decimal("40.00")
    values = dict(
        msg_id=f"MSG-{bank_files.tag()}", booked=today().isoformat(), tag=bank_files.tag(), closing="99999.99",
        amount_a=a_amount, payer_a=client_a["name"].upper(), iban_a="DE89370400440532013000",
        ref_a=inv_a["payment_reference"],
        amount_b=b_paid, payer_b="Someone Else Ltd", ref_b_typed=bank_files.spaced(inv_b["payment_reference"]),
        amount_c=c_amount, payer_c=f"{client_c['name']} GmbH", iban_c="GB82WEST12345698765432",
        amount_d=d_amount, payer_d=client_d["name"],
        amount_e=e_paid, payer_e=client_e["name"], ref_e=inv_e["payment_reference"])
    return {"values": values, "data": bank_files.fill("camt053_v08.xml", **values),
            "invoices": {"a": inv_a, "b": inv_b, "c": inv_c, "d1": inv_d1, "d2": inv_d2, "e": inv_e},
            "b_paid": b_paid, "e_paid": e_paid}


@pytest.fixture(scope="module")
def imported(finance: Api, a_day: dict[str, Any]) -> dict[str, Any]:
    return upload(finance, a_day["data"], "2026-12-01.xml")


def test_a_camt053_statement_pays_by_reference_and_by_amount_and_payer(
        finance: Api, a_day: dict[str, Any], imported: dict[str, Any]) -> None:
    # Six booked entries (the pending one is no line): A, B, C matched; D ambiguous, E over-paid; one debit.
    assert imported["format"] == "camt053"
    assert (imported["lines"], imported["matched"], imported["unmatched"], imported["debits"],
            imported["duplicates"], imported["overpaid"], imported["payments"]) == (6, 3, 2, 1, 0, 1, 4)
    statement = imported["statements"][0]["statement"]
    assert imported["statements"][0]["already_imported"] is False
    assert statement["account"] == "DE02120300000000202051" and statement["currency"] == "EUR"
    assert statement["opening_balance"] == "10000.00" and statement["closing_balance"] == "99999.99"
    assert statement["opening_date"] == statement["closing_date"] == today().isoformat()
    assert statement["statement_id"] == f"STMT-{a_day['values']['tag']}" and statement["waiting"] == 2

    inv = a_day["invoices"]
    paid_a = invoice(finance, inv["a"]["id"])
    assert paid_a["status"] == "paid" and paid_a["balance_due"] == "0.00"
    [payment] = payments(finance, inv["a"]["id"])
    assert payment["method"] == "bank_transfer" and payment["paid_on"] == today().isoformat()
    assert payment["reference"] == f"{a_day['values']['tag']}-0001"  # the bank's reference of the entry
    part_b = invoice(finance, inv["b"]["id"])
    assert part_b["status"] == "partially_paid" and Decimal(part_b["amount_paid"]) == a_day["b_paid"]
    assert invoice(finance, inv["c"]["id"])["status"] == "paid"
    assert invoice(finance, inv["d1"]["id"])["status"] == invoice(finance, inv["d2"]["id"])["status"] == "issued"
    assert invoice(finance, inv["e"]["id"])["status"] == "paid"

    rows = lines_of(finance, statement["id"])
    assert [r["status"] for r in rows] == ["matched", "matched", "matched", "unmatched", "unmatched", "debit"]
    assert [r["match_method"] for r in rows] == ["reference", "reference", "amount_and_name", None, "reference",
                                                 None]
    assert rows[0]["counterparty_iban"] == "DE89370400440532013000"
    assert rows[0]["matches"][0]["invoice_number"] == inv["a"]["number"]
    assert "2 open invoices of this amount fit the payer" in rows[3]["note"]
    assert rows[3]["applied_amount"] == "0.00"
    assert Decimal(rows[3]["open_amount"]) == Decimal(a_day["values"]["amount_d"])
    # The over-payment: the balance is paid, 40.00 waits (to refund, or apply elsewhere).
    assert rows[4]["open_amount"] == "40.00" and "40.00 EUR more than the balance due" in rows[4]["note"]
    assert rows[5]["direction"] == "debit" and rows[5]["amount"] == "12.50"


def test_the_same_statement_imported_again_pays_nothing_twice(
        finance: Api, a_day: dict[str, Any], imported: dict[str, Any]) -> None:
    inv = a_day["invoices"]
    before = {key: len(payments(finance, i["id"])) for key, i in inv.items()}
    again = upload(finance, a_day["data"], expected=200)
    assert (again["lines"], again["duplicates"], again["matched"], again["unmatched"], again["payments"]) == \
        (6, 6, 0, 0, 0)
    assert again["statements"][0]["already_imported"] is True
    assert again["statements"][0]["statement"]["id"] == imported["statements"][0]["statement"]["id"]
    # Re-downloaded, the same statement comes in another message (a new MsgId): still the same statement.
    redownloaded = bank_files.fill("camt053_v08.xml", **{**a_day["values"], "msg_id": "MSG-AGAIN"})
    assert upload(finance, redownloaded, expected=200)["duplicates"] == 6
    assert {key: len(payments(finance, i["id"])) for key, i in inv.items()} == before
    assert invoice(finance, inv["b"]["id"])["amount_paid"] == f"{a_day['b_paid']}"


def test_a_later_statement_with_lines_already_imported_records_only_the_new_ones(
        finance: Api, sales: Api) -> None:
    """An intraday statement, then the day's full statement holding its lines and one more."""
    values = {}
    invoices = {}
    for key in "abcde":
        client, inv = client_invoice(finance, sales, amount())
        invoices[key] = inv
        values[f"amount_{key}"] = inv["total"]
        values[f"payer_{key}"] = client["name"]
    values |= dict(msg_id="M", booked=today().isoformat(), tag=bank_files.tag(), closing="1.00",
                   iban_a="DE89370400440532013000", iban_c="GB82WEST12345698765432",
                   ref_a=invoices["a"]["payment_reference"], ref_b_typed=invoices["b"]["payment_reference"],
                   ref_e=invoices["e"]["payment_reference"])
    full = bank_files.fill("camt053_v08.xml", **values)
    # The intraday statement: the first two entries only (another statement: its own id and balances).
    text = full.decode()
    first_two = text[:text.index("<!-- 3.")] + "</Stmt></BkToCstmrStmt></Document>"
    intraday = upload(finance, first_two.replace("<Id>STMT-", "<Id>INTRADAY-").encode())
    assert (intraday["lines"], intraday["matched"], intraday["duplicates"]) == (2, 2, 0)
    day = upload(finance, full)
    assert (day["lines"], day["duplicates"], day["payments"]) == (6, 2, 3)
    assert (day["matched"], day["unmatched"], day["debits"]) == (3, 0, 1)  # C, D by name, E by reference
    assert [p["amount"] for p in payments(finance, invoices["a"]["id"])] == [invoices["a"]["total"]]


def test_two_concurrent_imports_of_one_statement_pay_once(finance: Api, sales: Api, stack: Stack) -> None:
    client_1, inv_1 = client_invoice(finance, sales, amount())
    client_2, inv_2 = client_invoice(finance, sales, amount())
    total = Decimal(inv_1["total"]) + Decimal(inv_2["total"])
    data = bank_files.fill("camt053_v02.xml", msg_id="M", booked=today().isoformat(), tag=bank_files.tag(),
                           closing="1.00", total=total, amount_1=inv_1["total"], amount_2=inv_2["total"],
                           payer_1=client_1["name"], payer_2=client_2["name"], ref_1=inv_1["payment_reference"],
                           ref_2=bank_files.spaced(inv_2["payment_reference"]))
    barrier = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def post() -> None:
        with as_role(stack, "finance") as api:
            barrier.wait()
            answers.append(api.client.post(STATEMENTS, files={"file": ("same.xml", data, "application/xml")}))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.text for a in answers]
    created = next(a.json() for a in answers if a.status_code == 201)
    assert (created["lines"], created["matched"], created["payments"]) == (2, 2, 2)  # the batch entry, split
    assert all(a.json()["duplicates"] == 2 for a in answers if a.status_code == 200)
    for inv in (inv_1, inv_2):
        assert len(payments(finance, inv["id"])) == 1
        assert invoice(finance, inv["id"])["status"] == "paid"


def test_an_mt940_file_of_two_days_keeps_each_statement_and_matches_by_reference(finance: Api, sales: Api) -> None:
    client_1, inv_1 = client_invoice(finance, sales, amount())
    client_2, inv_2 = client_invoice(finance, sales, amount())
    yesterday, day = today() - timedelta(days=1), today()
    ref_1 = bank_files.spaced(inv_1["payment_reference"])
    closing_1 = Decimal("1000.00") + Decimal(inv_1["total"]) - Decimal("35.70")
    closing_2 = closing_1 + Decimal(inv_2["total"])
    data = bank_files.fill(
        "mt940.sta", tag=bank_files.tag(), yymmdd=bank_files.swift_date(day), mmdd=day.strftime("%m%d"),
        yymmdd_before=bank_files.swift_date(yesterday), mmdd_before=yesterday.strftime("%m%d"),
        amount_1=bank_files.swift_amount(inv_1["total"]), ref_1_a=ref_1[:9], ref_1_b=ref_1[9:],
        payer_1=client_1["name"][:27], closing_1=bank_files.swift_amount(str(closing_1)),
        amount_2=bank_files.swift_amount(inv_2["total"]), payer_2=client_2["name"],
        ref_2=inv_2["payment_reference"], closing_2=bank_files.swift_amount(str(closing_2)))
    result = upload(finance, data, "statement.sta")
    assert result["format"] == "mt940"
    assert (result["lines"], result["matched"], result["debits"], result["unmatched"]) == (3, 2, 1, 0)
    first, second = (s["statement"] for s in result["statements"])
    assert (first["opening_balance"], first["closing_balance"]) == ("1000.00", f"{closing_1}")
    assert (second["opening_balance"], second["closing_balance"]) == (f"{closing_1}", f"{closing_2}")
    assert first["closing_date"] == yesterday.isoformat() and second["closing_date"] == day.isoformat()
    assert first["statement_id"].endswith("/00231/001")
    [payment] = payments(finance, inv_1["id"])
    assert payment["paid_on"] == yesterday.isoformat()
    paid_line = lines_of(finance, first["id"])[0]
    assert paid_line["counterparty_iban"] == "DE89370400440532013000"
    assert paid_line["counterparty_name"] == client_1["name"][:27]
    assert invoice(finance, inv_2["id"])["status"] == "paid"
    assert upload(finance, data, "again.sta", expected=200)["duplicates"] == 3


def test_a_csv_export_is_read_through_its_saved_mapping(finance: Api, sales: Api) -> None:
    client_1, inv_1 = client_invoice(finance, sales, amount())
    client_2, inv_2 = client_invoice(finance, sales, amount())
    mapping = finance.ok("POST", "/api/erp/bank-csv-mappings", 201, json={
        "name": f"Sparkasse {bank_files.tag()}", "account": "DE02 1203 0000 0000 2020 51", "delimiter": ";",
        "decimal_separator": ",", "date_format": "%d.%m.%Y", "columns": {
            "booking_date": "Buchungstag", "value_date": "Valuta", "amount": "Betrag", "currency": "Waehrung",
            "counterparty": "Auftraggeber", "iban": "IBAN", "reference": "Verwendungszweck"}})
    assert mapping["account"] == "DE02120300000000202051"
    data = bank_files.fill("bank_export.csv", booked_de=today().strftime("%d.%m.%Y"), payer_1=client_1["name"],
                           ref_1=inv_1["payment_reference"], amount_1_de=bank_files.german_amount(inv_1["total"]),
                           payer_2=client_2["name"], note_2="Danke",
                           amount_2_de=bank_files.german_amount(inv_2["total"]))
    # A preview reads it and records nothing.
    preview = finance.ok("POST", f"{STATEMENTS}/preview", files={"file": ("export.csv", data, "text/csv")},
                         data={"mapping_id": mapping["id"]})
    assert preview["statements"][0]["lines"] == 3 and preview["statements"][0]["credits"] == 2
    assert preview["lines"][0]["rf_references"] == [inv_1["payment_reference"]]
    assert preview["lines"][1]["direction"] == "debit" and preview["lines"][1]["amount"] == "1234.56"
    assert invoice(finance, inv_1["id"])["status"] == "issued"
    result = upload(finance, data, "export.csv", mapping_id=mapping["id"])
    assert (result["format"], result["lines"], result["matched"], result["debits"]) == ("csv", 3, 2, 1)
    assert invoice(finance, inv_1["id"])["status"] == invoice(finance, inv_2["id"])["status"] == "paid"
    repeat = finance.ok("POST", f"{STATEMENTS}/preview", files={"file": ("export.csv", data, "text/csv")},
                        data={"mapping_id": mapping["id"]})
    assert repeat["statements"][0]["already_imported"] == 3

    # A mapping naming a column the file does not have: 422 naming it, nothing imported.
    finance.ok("PUT", f"/api/erp/bank-csv-mappings/{mapping['id']}", json={
        "name": mapping["name"], "account": mapping["account"], "columns": {
            "booking_date": "Buchungstag", "amount": "Umsatz"}})
    refused = upload(finance, data, "export.csv", expected=422, mapping_id=mapping["id"])
    assert refused["location"] == "line 1" and "'Umsatz'" in refused["detail"]


@pytest.mark.parametrize(("fixture", "location", "words"), [
    ("camt053_broken.xml", "line 9, column 6", "not well-formed XML"),
    ("camt052_report.xml", "Document", "camt.052.001.08"),
    ("camt053_missing_amount.xml", "Stmt[1]/Ntry[2]/Amt", "the amount is missing"),
    ("camt053_entities.xml", None, "may not declare a DTD"),
    ("mt940_bad_61.sta", "line 7 (:61:)", "not a valid statement line"),
])
def test_a_malformed_statement_is_refused_naming_where_and_imports_nothing(
        finance: Api, fixture: str, location: str | None, words: str) -> None:
    before = finance.ok("GET", STATEMENTS, params={"limit": 1})["total"]
    problem = upload(finance, bank_files.raw(fixture), fixture, expected=422)
    assert problem["type"].endswith("/bad-statement")
    assert problem["location"] == location and words in problem["detail"]
    assert "Nothing was imported" in problem["detail"]
    assert finance.ok("GET", STATEMENTS, params={"limit": 1})["total"] == before


def test_what_is_not_a_statement_is_refused(finance: Api) -> None:
    problem = upload(finance, b"Date,Amount\n2026-12-01,100.00\n", "export.csv", expected=422)
    assert "neither a CAMT.053" in problem["detail"] and "mapping" in problem["detail"]
    assert upload(finance, b"   ", "empty.xml", expected=422)["detail"] == "The statement file is empty."


def test_match_one_line_across_two_invoices_by_hand(finance: Api, sales: Api) -> None:
    client, first = client_invoice(finance, sales, "1000.00")
    second = another_invoice(finance, first, "800.00")
    values = dict(
        msg_id="M", booked=today().isoformat(), tag=bank_files.tag(), closing="1.00",
        amount_a="1500.00", payer_a="Unknown Payer AG", iban_a="FR1420041010050500013M02606", ref_a="no reference",
        amount_b="1.23", payer_b="x", ref_b_typed="-", amount_c="1.24", payer_c="y", iban_c="GB82WEST12345698765432",
        amount_d="1.25", payer_d="z", amount_e="1.26", payer_e="w", ref_e="-")
    statement = upload(finance, bank_files.fill("camt053_v08.xml", **values))["statements"][0]["statement"]
    waiting = lines_of(finance, statement["id"])[0]
    assert waiting["status"] == "unmatched" and waiting["open_amount"] == "1500.00"
    queue = finance.ok("GET", LINES, params={"status": "unmatched", "q": "Unknown Payer", "limit": 200})["items"]
    assert waiting["id"] in [x["id"] for x in queue]
    path = f"{LINES}/{waiting['id']}/match"

    # The amounts must add up to the line; an amount above an invoice's balance is refused by the invoice rules.
    short = finance.post(path, json={"allocations": [{"invoice_id": first["id"], "amount": "1000.00"}]})
    assert short.status_code == 422 and short.json()["open_amount"] == "1500.00"
    over = finance.post(path, json={"allocations": [{"invoice_id": first["id"], "amount": "1200.00"},
                                                    {"invoice_id": second["id"], "amount": "300.00"}]})
    assert over.status_code == 422 and over.json()["type"].endswith("/overpayment")
    assert over.json()["invoice_id"] == first["id"]
    assert payments(finance, second["id"]) == []  # nothing of the refused match was recorded

    matched = finance.ok("POST", path, json={"allocations": [{"invoice_id": first["id"], "amount": "1000.00"},
                                                             {"invoice_id": second["id"], "amount": "500.00"}],
                                             "note": "Two invoices in one transfer"})
    assert matched["status"] == "matched" and matched["open_amount"] == "0.00"
    assert matched["match_method"] == "manual" and matched["note"] == "Two invoices in one transfer"
    assert sorted((m["invoice_number"], m["amount"], m["method"]) for m in matched["matches"]) == sorted(
        [(first["number"], "1000.00", "manual"), (second["number"], "500.00", "manual")])
    assert invoice(finance, first["id"])["status"] == "paid"
    assert invoice(finance, second["id"])["balance_due"] == "300.00"
    assert payments(finance, second["id"])[0]["paid_on"] == today().isoformat()
    # Matched once: a second match is a conflict.
    assert finance.post(path, json={"allocations": [{"invoice_id": second["id"], "amount": "1.00"}]}).status_code == 409
    # The payer's account now belongs to this client: next time, an amount alone is enough.
    later = dict(values, tag=bank_files.tag(), amount_a="300.00", payer_a="Accounts Payable Dept")
    result = upload(finance, bank_files.fill("camt053_v08.xml", **later))
    first_line = lines_of(finance, result["statements"][0]["statement"]["id"])[0]
    assert first_line["status"] == "matched" and first_line["match_method"] == "amount_and_iban"
    assert invoice(finance, second["id"])["status"] == "paid"
    assert client["id"] == invoice(finance, second["id"])["client_id"]


def test_a_line_that_is_no_invoice_payment_is_set_aside_and_can_come_back(finance: Api) -> None:
    values = dict(
        msg_id="M", booked=today().isoformat(), tag=bank_files.tag(), closing="1.00",
        amount_a="777.77", payer_a="Tax Office", iban_a="DE89370400440532013000", ref_a="Refund 2025",
        amount_b="1.23", payer_b="x", ref_b_typed="-", amount_c="1.24", payer_c="y", iban_c="GB82WEST12345698765432",
        amount_d="1.25", payer_d="z", amount_e="1.26", payer_e="w", ref_e="-")
    statement = upload(finance, bank_files.fill("camt053_v08.xml", **values))["statements"][0]["statement"]
    refund = lines_of(finance, statement["id"])[0]
    candidates = finance.ok("GET", f"{LINES}/{refund['id']}/candidates")
    assert isinstance(candidates, list)
    path = f"{LINES}/{refund['id']}"
    assert finance.post(f"{path}/ignore", json={}).status_code == 422  # the note says what it is
    ignored = finance.ok("POST", f"{path}/ignore", json={"note": "Tax refund for 2025"})
    assert ignored["status"] == "ignored" and ignored["open_amount"] == "0.00"
    assert ignored["note"] == "Tax refund for 2025" and ignored["reconciled_by"]
    queue = finance.ok("GET", LINES, params={"status": "unmatched", "statement_id": statement["id"]})["items"]
    assert refund["id"] not in [x["id"] for x in queue]
    assert finance.post(f"{path}/ignore", json={"note": "again"}).status_code == 409
    reopened = finance.ok("POST", f"{path}/reopen")
    assert reopened["status"] == "unmatched" and reopened["open_amount"] == "777.77"
    debit = lines_of(finance, statement["id"])[-1]
    one = {"allocations": [{"invoice_id": str(uuid.uuid4()), "amount": "1.26"}]}
    assert finance.post(f"{LINES}/{debit['id']}/match", json=one).status_code == 409  # not matched to invoices
    # Money out is set aside too (booked against suspense by default: tests/erp_books/test_bank_books.py), and
    # comes back as money out waiting.
    booked = finance.ok("POST", f"{LINES}/{debit['id']}/ignore", json={"note": "fee"})
    assert booked["status"] == "ignored" and booked["ledger_account_id"]
    assert finance.ok("POST", f"{LINES}/{debit['id']}/reopen")["status"] == "debit"


def test_candidates_for_a_waiting_line_put_the_likeliest_first(
        finance: Api, a_day: dict[str, Any], imported: dict[str, Any]) -> None:
    ambiguous = lines_of(finance, imported["statements"][0]["statement"]["id"])[3]
    found = finance.ok("GET", f"{LINES}/{ambiguous['id']}/candidates")
    both = {a_day["invoices"]["d1"]["id"], a_day["invoices"]["d2"]["id"]}
    assert {c["invoice_id"] for c in found[:2]} == both
    assert all(set(c["reasons"]) == {"amount", "name"} for c in found[:2])


def test_every_role_reads_bank_lines_and_only_finance_acts_on_them(stack: Stack) -> None:
    for role in ("sales", "project_manager", "viewer"):
        with as_role(stack, role) as api:
            assert api.get(LINES).status_code == 200, role
            assert api.get(STATEMENTS).status_code == 200, role
            refused = api.client.post(STATEMENTS, files={"file": ("x.xml", b"<x/>", "application/xml")})
            assert refused.status_code == 403, role
            assert api.post(f"{LINES}/{uuid.uuid4()}/ignore", json={"note": "x"}).status_code == 403, role
            assert api.post("/api/erp/bank-csv-mappings", json={}).status_code == 403, role
