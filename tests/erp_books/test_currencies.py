"""The books in the base currency (EUR here): base amounts on every line at the day's rate, statements with
`basis=base`, realised exchange gains and losses when a foreign invoice or bill is paid at another rate, and what
cannot be converted listed rather than refused."""

import csv
import importlib.util
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from devstack.stack import Stack
from tests.erp_billing.helpers import fixed, issued, line, pay, project_for, today
from tests.erp_books.books import entries_of
from tests.erp_cash.helpers import approved_bill, company_in_eur, new_vendor, tax_rate
from tests.erp_costs.helpers import as_role, new_cost_center, new_expense, scalar
from tests.support import Api

AR, BANK, REVENUE, AP, EXPENSES_PAYABLE = "1100", "1000", "4000", "2000", "2100"
FX_GAIN, FX_LOSS = "4900", "6950"
Z = Decimal(0)
MIGRATION = Path(__file__).parents[2] / "services/erp/erp/migrations/versions/0022_ledger_base_amounts.py"


def set_rate(api: Api, currency: str, on: Any, rate: str) -> None:
    api.ok("PUT", "/api/erp/exchange-rates", json={"currency": currency, "rate_date": str(on), "rate": rate})


def foreign_project(admin: Api, currency: str) -> dict[str, Any]:
    """A project billed in `currency`, of a client of its own: its lines in the books are its alone."""
    return project_for(admin, fixed(1, today() + timedelta(days=400)), amount="5000.00", currency=currency)


def report(api: Api, name: str, expected: int = 200, **params: str) -> dict[str, Any]:
    result: dict[str, Any] = api.ok("GET", f"/api/erp/reports/{name}", expected, params=params)
    return result


def base_balances(api: Api, client_id: str) -> dict[str, Decimal]:
    tb = report(api, "trial-balance", basis="base", client_id=client_id)
    assert tb["basis"] == "base" and tb["currency"] == "EUR"
    assert Decimal(tb["total_debit"]) == Decimal(tb["total_credit"])  # sums to zero in the base currency
    return {row["code"]: Decimal(row["balance"]) for row in tb["rows"]}


def base_lines(entry: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal]]:
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for x in entry["lines"]:
        d, c = out.get(x["account_code"], (Decimal(0), Decimal(0)))
        out[x["account_code"]] = (d + Decimal(x["debit_base"]), c + Decimal(x["credit_base"]))
    return out


def test_a_usd_invoice_paid_at_a_higher_rate_posts_the_gain_in_eur(admin: Api, finance: Api) -> None:
    company_in_eur(finance)
    project = foreign_project(admin, "USD")
    paid_on = today() - timedelta(days=20)
    set_rate(finance, "USD", today(), "0.9000")  # r1, the issue day's
    set_rate(finance, "USD", paid_on, "0.9500")  # r2, the payment day's
    invoice = issued(finance, project, [line(unit_price="1000.00")])
    assert invoice["currency"] == "USD"
    [issue] = entries_of(finance, invoice["id"])
    assert base_lines(issue) == {AR: (Decimal("900"), Z), REVENUE: (Z, Decimal("900"))}

    payment = pay(finance, invoice["id"], "1000.00", paid_on=str(paid_on))
    [entry] = entries_of(finance, payment["payment"]["id"])
    # Bank at r2 (950), the receivable at r1 (900, what the issue put in): 50 EUR gained, 0 USD.
    assert base_lines(entry) == {BANK: (Decimal("950"), Z), AR: (Z, Decimal("900")), FX_GAIN: (Z, Decimal("50"))}
    gain = next(x for x in entry["lines"] if x["account_code"] == FX_GAIN)
    assert (gain["currency"], gain["debit"], gain["credit"]) == ("USD", "0.0000", "0.0000")

    books = base_balances(finance, project["client_id"])
    assert books[FX_GAIN] == Decimal("50.00") and books[BANK] == Decimal("950.00")
    assert books[REVENUE] == Decimal("900.00") and books.get(AR, Decimal(0)) == 0
    pl = report(finance, "profit-and-loss", basis="base", client_id=project["client_id"])
    assert Decimal(pl["result"]) == Decimal("950.00") and pl["unconverted"] == []

    # In USD nothing changed: balanced, the exchange difference is no row of it.
    usd = report(finance, "trial-balance", currency="USD", client_id=project["client_id"])
    assert Decimal(usd["total_debit"]) == Decimal(usd["total_credit"]) == Decimal("2000.00")
    assert {row["code"] for row in usd["rows"]} == {AR, BANK, REVENUE}
    # Nor in the accountant's export: the gain is 0 in USD, a base-only line (its entry exported without it).
    export = finance.client.get("/api/erp/exports/journal", params={
        "format": "csv", "currency": "USD", "date_from": str(paid_on), "date_to": str(paid_on)})
    assert export.status_code == 200
    rows = [r for r in csv.DictReader(io.StringIO(export.text)) if r["source_id"] == payment["payment"]["id"]]
    assert sorted(r["account_code"] for r in rows) == [BANK, AR]


def test_partial_payments_at_a_lower_rate_post_losses_and_rounding_is_closed(admin: Api, finance: Api) -> None:
    company_in_eur(finance)
    project = foreign_project(admin, "USD")
    first, second = today() - timedelta(days=40), today() - timedelta(days=30)
    set_rate(finance, "USD", today(), "0.5000")
    set_rate(finance, "USD", first, "0.4000")
    set_rate(finance, "USD", second, "0.4500")
    invoice = issued(finance, project, [line(unit_price="100.03"), line(unit_price="100.03")])
    [issue] = entries_of(finance, invoice["id"])
    # The receivable is 200.06 x 0.5 = 100.03; each revenue line 50.015 -> 50.02: a cent more credited, closed
    # by a base-only loss line (every converted line stays exactly its amount at the rate).
    assert base_lines(issue) == {AR: (Decimal("100.03"), Z), REVENUE: (Z, Decimal("100.04")),
                                 FX_LOSS: (Decimal("0.01"), Z)}

    one = pay(finance, invoice["id"], "100.00", paid_on=str(first))
    two = pay(finance, invoice["id"], "100.06", paid_on=str(second))
    [first_entry], [second_entry] = entries_of(finance, one["payment"]["id"]), entries_of(finance, two["payment"]["id"])
    assert base_lines(first_entry) == {BANK: (Decimal("40"), Z), AR: (Z, Decimal("50")),
                                       FX_LOSS: (Decimal("10"), Z)}
    assert base_lines(second_entry) == {BANK: (Decimal("45.03"), Z), AR: (Z, Decimal("50.03")),
                                        FX_LOSS: (Decimal("5"), Z)}
    books = base_balances(finance, project["client_id"])
    assert books[FX_LOSS] == Decimal("15.01") and books[BANK] == Decimal("85.03")
    assert books.get(AR, Decimal(0)) == 0 and FX_GAIN not in books  # the receivable leaves at what it came in


def test_a_void_reverses_the_base_amounts_exactly_whatever_the_rate_of_its_day(admin: Api, finance: Api) -> None:
    company_in_eur(finance)
    project = foreign_project(admin, "USD")
    set_rate(finance, "USD", today(), "0.9100")
    invoice = issued(finance, project, [line(unit_price="250.00", tax_rate="19")])
    set_rate(finance, "USD", today(), "0.7000")  # corrected afterwards: the void takes the issue's amounts
    finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/void", json={"reason": "wrong client"})
    issue, void = sorted(entries_of(finance, invoice["id"]), key=lambda e: e["number"])
    assert [(x["debit_base"], x["credit_base"]) for x in void["lines"]] == [
        (x["credit_base"], x["debit_base"]) for x in issue["lines"]]
    assert all(v == 0 for v in base_balances(finance, project["client_id"]).values())


def test_an_invoice_without_a_rate_is_issued_and_listed_as_unconverted(stack: Stack, admin: Api, finance: Api) -> None:
    company_in_eur(finance)
    project = foreign_project(admin, "ISK")
    stack.postgres.psql("erp", "DELETE FROM exchange_rates WHERE currency = 'ISK'")  # type: ignore[union-attr]
    invoice = issued(finance, project, [line(unit_price="15000")])  # never refused for a missing rate
    [issue] = entries_of(finance, invoice["id"])
    assert all(x["debit_base"] is None and x["credit_base"] is None for x in issue["lines"])
    tb = report(finance, "trial-balance", basis="base", client_id=project["client_id"])
    assert tb["rows"] == [] and Decimal(tb["total_debit"]) == 0
    assert tb["unconverted"] == [{"currency": "ISK", "debit": "15000.0000", "credit": "15000.0000", "lines": 2}]
    bs = report(finance, "balance-sheet", basis="base", client_id=project["client_id"])
    assert [u["currency"] for u in bs["unconverted"]] == ["ISK"]
    # Paid later, once a rate exists: the receivable has no issue rate, so no gain is made up; both at the day's.
    set_rate(finance, "ISK", today(), "0.0065")
    payment = pay(finance, invoice["id"], "15000")
    [entry] = entries_of(finance, payment["payment"]["id"])
    assert base_lines(entry) == {BANK: (Decimal("97.5"), Z), AR: (Z, Decimal("97.5"))}


def test_base_basis_is_checked_and_per_currency_stays_as_it_was(finance: Api) -> None:
    company_in_eur(finance)
    refused = finance.client.get("/api/erp/reports/trial-balance", params={"basis": "base", "currency": "USD"})
    assert refused.status_code == 422 and "base currency" in refused.json()["detail"]
    assert finance.client.get("/api/erp/reports/profit-and-loss", params={"basis": "euro"}).status_code == 422
    same = report(finance, "trial-balance", basis="base", currency="EUR")
    assert same["basis"] == "base" and same["other_currencies"] == []
    per_currency = report(finance, "trial-balance", currency="EUR")
    assert per_currency["basis"] == "currency" and per_currency["unconverted"] == []
    # The whole books balance in the base currency too: every entry is converted whole or not at all.
    assert Decimal(same["total_debit"]) == Decimal(same["total_credit"])
    bs = report(finance, "balance-sheet", basis="base")
    assert Decimal(bs["total_assets"]) == Decimal(bs["total_liabilities_and_equity"])


def test_a_usd_bill_paid_at_a_higher_rate_posts_the_loss(stack: Stack, finance: Api) -> None:
    company_in_eur(finance)
    bill_date, paid_on = today() - timedelta(days=50), today() - timedelta(days=45)
    set_rate(finance, "USD", bill_date, "0.8000")
    set_rate(finance, "USD", paid_on, "0.8500")
    vendor = new_vendor(finance, currency="USD")
    zero = tax_rate(finance, "zero", "0")
    bill = approved_bill(finance, as_role(stack, "finance"), vendor["id"], [
        {"description": "Licences", "quantity": "1", "unit_price": "1000.00", "tax_rate_id": zero["id"]}],
        bill_date=str(bill_date))
    [approved] = entries_of(finance, bill["id"])
    assert base_lines(approved)[AP] == (Z, Decimal("800"))
    payment = finance.ok("POST", f"/api/erp/bills/{bill['id']}/payments", 201,
                         json={"amount": "1000.00", "paid_on": str(paid_on)})
    [entry] = entries_of(finance, payment["id"])
    # The payable leaves at the bill's rate (800), the bank pays the day's (850): 50 EUR lost.
    assert base_lines(entry) == {AP: (Decimal("800"), Z), BANK: (Z, Decimal("850")), FX_LOSS: (Decimal("50"), Z)}


def test_a_usd_expense_reimbursed_at_a_higher_rate_posts_the_loss(stack: Stack, finance: Api) -> None:
    company_in_eur(finance)
    spent_on, paid_on = today() - timedelta(days=60), today() - timedelta(days=55)
    set_rate(finance, "USD", spent_on, "0.8000")
    set_rate(finance, "USD", paid_on, "0.8500")
    sales = as_role(stack, "sales")
    center = new_cost_center(as_role(stack, "admin"))
    expense = new_expense(sales, cost_center_id=center["id"], amount="40.00", currency="USD",
                          expense_date=str(spent_on), merchant="US SaaS")
    sales.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
    finance.ok("POST", f"/api/erp/expenses/{expense['id']}/approve")
    finance.ok("POST", f"/api/erp/expenses/{expense['id']}/reimburse", json={"paid_at": f"{paid_on}T12:00:00+00:00"})
    approved, reimbursed = sorted(entries_of(finance, expense["id"]), key=lambda e: e["number"])
    assert base_lines(approved)[EXPENSES_PAYABLE] == (Z, Decimal("32"))
    # The debt to the payer leaves at the approval's rate (32), the bank pays the day's (34): 2 EUR lost.
    assert base_lines(reimbursed) == {EXPENSES_PAYABLE: (Decimal("32"), Z), BANK: (Z, Decimal("34")),
                                      FX_LOSS: (Decimal("2"), Z)}


def test_the_migration_backfills_entries_wholly_in_the_base_currency(stack: Stack, admin: Api, finance: Api) -> None:
    """Lines from before the base amounts: an entry all in EUR gets its own amounts; a foreign one stays NULL."""
    company_in_eur(finance)
    invoice = issued(finance, foreign_project(admin, "EUR"), [line(unit_price="70.00")])
    [issue] = entries_of(finance, invoice["id"])
    set_rate(finance, "USD", today(), "0.9000")
    usd_invoice = issued(finance, foreign_project(admin, "USD"), [line(unit_price="70.00")])
    [usd_issue] = entries_of(finance, usd_invoice["id"])
    assert stack.postgres is not None
    stack.postgres.psql("erp", f"UPDATE journal_lines SET debit_base = NULL, credit_base = NULL "
                               f"WHERE entry_id IN ('{issue['id']}', '{usd_issue['id']}')")
    spec = importlib.util.spec_from_file_location("m0022", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stack.postgres.psql("erp", module.BACKFILL)
    assert scalar(stack, f"SELECT sum(debit_base) || '/' || sum(credit_base) FROM journal_lines "
                         f"WHERE entry_id = '{issue['id']}'") == "70.0000/70.0000"
    assert scalar(stack, f"SELECT count(*) FROM journal_lines WHERE entry_id = '{usd_issue['id']}' "
                         f"AND debit_base IS NULL") == "2"  # left for the base statements to list
