"""The forward cash forecast on known data, and scenario deltas.

The forecast is dated in 2031 (`as_of`), after everything the other test modules leave behind: their open items are
all due before it, so they fall in its first week, and the weeks after hold only what this module enters."""

import itertools
from decimal import Decimal
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_cash.helpers import approved_bill, count, new_vendor, rate_every_currency, tax_rate
from tests.erp_costs.helpers import RoleApi, as_role, new_client, new_project, scalar, sql
from tests.support import wait_for

AS_OF = "2031-03-03"  # a Monday: week 0 is 03-03..03-09, week 1 from 03-10, week 2 from 03-17 ...
WEEKS = 8


def _invoice(stack: Stack, admin: RoleApi, project_id: str, amount: str) -> dict[str, Any]:
    draft = admin.ok("POST", "/api/erp/invoices", 201, json={
        "project_id": project_id,
        "lines": [{"description": "Work", "quantity": "1", "unit_price": amount, "tax_rate": "0"}]})
    issued: dict[str, Any] = admin.ok("POST", f"/api/erp/invoices/{draft['id']}/issue")
    return issued


def _psql(stack: Stack, statement: str) -> None:
    assert stack.postgres is not None
    stack.postgres.psql("erp", statement)


@pytest.fixture(scope="module")
def known(stack: Stack, finance: RoleApi, base: dict[str, Any]) -> dict[str, Any]:
    """A client that pays 15 days late on average, its open invoice due 2031-03-10, a bill due 2031-03-18, monthly
    rent from 2031-03-20, and 10,000.00 EUR on hand on 2031-03-02."""
    with as_role(stack, "admin") as admin:
        client = new_client(admin, stack)
        project = new_project(admin, client["id"])
        for days_late in (10, 20):
            paid = _invoice(stack, admin, project["id"], "100.00")
            admin.ok("POST", f"/api/erp/invoices/{paid['id']}/payments", 201, json={"amount": "100.00"})
            _psql(stack, f"UPDATE invoices SET due_date = DATE '2031-01-10', paid_at = TIMESTAMPTZ '2031-01-10 12:00Z' "
                         f"+ INTERVAL '{days_late} days' WHERE id = '{paid['id']}'")
        open_invoice = _invoice(stack, admin, project["id"], "1000.00")
        _psql(stack, f"UPDATE invoices SET due_date = DATE '2031-03-10' WHERE id = '{open_invoice['id']}'")
    zero = tax_rate(finance, "zero", "0")
    bill = approved_bill(finance, as_role(stack, "project_manager"), new_vendor(finance)["id"],
                         [{"description": "Studio hire", "unit_price": "500.00", "tax_rate_id": zero["id"]}],
                         bill_date="2031-03-01", due_date="2031-03-18")
    rent = finance.ok("POST", "/api/erp/recurring-items", 201, json={
        "name": "Office rent", "kind": "rent", "amount": "2000.00", "currency": "EUR", "interval": "month",
        "start_date": "2031-03-20", "end_date": "2031-12-31"})
    finance.ok("POST", "/api/erp/cash-flow-scenarios/opening-balance", 201,
               json={"as_of": "2031-03-02", "amount": "10000.00", "currency": "EUR", "note": "Counted"})
    rate_every_currency(stack, finance, AS_OF)
    return {"client": client, "bill": bill, "rent": rent, "invoice": open_invoice}


def _baseline(api: RoleApi) -> dict[str, Any]:
    forecast: dict[str, Any] = api.ok("GET", "/api/erp/cash-flow-scenarios/baseline",
                                      params={"as_of": AS_OF, "weeks": WEEKS})
    return forecast


def test_baseline_week_by_week(known: dict[str, Any], finance: RoleApi) -> None:
    forecast = _baseline(finance)
    assert forecast["base_currency"] == "EUR" and len(forecast["weeks"]) == WEEKS
    assert forecast["opening_balance"] == {"amount": "10000.00", "currency": "EUR", "as_of": "2031-03-02",
                                           "source": "entered", "note": "Counted"}
    weeks = forecast["weeks"]
    assert [w["week_start"] for w in weeks[:3]] == ["2031-03-03", "2031-03-10", "2031-03-17"]
    # The invoice due 03-10 is expected 15 days later (the client's average lateness): in week 3, not week 1.
    assert [w["invoices"] for w in weeks[1:]] == ["0.00", "0.00", "1000.00", "0.00", "0.00", "0.00", "0.00"]
    assert [w["bills"] for w in weeks[1:]] == ["0.00", "500.00", "0.00", "0.00", "0.00", "0.00", "0.00"]
    # Rent on 03-20 (week 2) and 04-20 (week 6: 04-14..04-20).
    assert [w["recurring"] for w in weeks[1:]] == ["0.00", "2000.00", "0.00", "0.00", "0.00", "2000.00", "0.00"]
    for before, week in itertools.pairwise(weeks):
        assert week["opening"] == before["closing"]
        assert Decimal(week["closing"]) == Decimal(week["opening"]) + Decimal(week["inflow"]) - \
            Decimal(week["outflow"])
    assert Decimal(weeks[0]["opening"]) == Decimal("10000.00")
    lowest = min(weeks, key=lambda w: (Decimal(w["closing"]), w["week_start"]))
    assert (forecast["lowest_balance"], forecast["lowest_week"]) == (lowest["closing"], lowest["week_start"])
    assert finance.get("/api/erp/cash-flow-scenarios/baseline", params={"weeks": 0}).status_code == 422


def _deltas(comparison: dict[str, Any]) -> list[str]:
    return [w["delta"] for w in comparison["weeks"]]


def test_scenario_deltas(stack: Stack, known: dict[str, Any], finance: RoleApi) -> None:
    late = finance.ok("POST", "/api/erp/cash-flow-scenarios/preview", params={"as_of": AS_OF, "weeks": WEEKS},
                      json={"adjustments": [{"type": "client_pays_late", "client_id": known["client"]["id"],
                                             "days": 7}]})
    # 1000.00 moves from week 3 (03-25) to week 4 (04-01).
    assert _deltas(late) == ["0.00", "0.00", "0.00", "-1000.00", "0.00", "0.00", "0.00", "0.00"]
    assert late["baseline"]["weeks"] == _baseline(finance)["weeks"]

    early = finance.ok("POST", "/api/erp/cash-flow-scenarios/preview", params={"as_of": AS_OF, "weeks": WEEKS},
                       json={"adjustments": [{"type": "bill_paid_early", "bill_id": known["bill"]["id"],
                                              "pay_on": "2031-03-04"}]})
    assert _deltas(early) == ["-500.00", "-500.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00"]
    assert early["forecast"]["weeks"][0]["bills"] == \
        str(Decimal(early["baseline"]["weeks"][0]["bills"]) + Decimal("500.00"))

    saved = finance.ok("POST", "/api/erp/cash-flow-scenarios", 201, json={
        "name": f"Hire and a slow client {known['client']['id'][:8]}", "description": "Q2 what-if",
        "adjustments": [
            {"type": "hire", "name": "Designer", "monthly_cost": "3000.00", "start_date": "2031-03-12"},
            {"type": "client_pays_late", "client_id": known["client"]["id"], "days": 7}]})
    compared = finance.ok("GET", f"/api/erp/cash-flow-scenarios/{saved['id']}", params={"as_of": AS_OF,
                                                                                         "weeks": WEEKS})
    # The hire costs 3000.00 on 03-12 (week 1) and 04-12 (week 5); the client's 1000.00 comes a week later.
    assert _deltas(compared) == ["0.00", "-3000.00", "-3000.00", "-4000.00", "-3000.00", "-6000.00", "-6000.00",
                                 "-6000.00"]
    assert [w["hires"] for w in compared["forecast"]["weeks"]] == \
        ["0.00", "3000.00", "0.00", "0.00", "0.00", "3000.00", "0.00", "0.00"]
    scenario_weeks = compared["forecast"]["weeks"]
    lowest = min(scenario_weeks, key=lambda w: (Decimal(w["closing"]), w["week_start"]))
    assert (compared["forecast"]["lowest_balance"], compared["forecast"]["lowest_week"]) == \
        (lowest["closing"], lowest["week_start"])
    assert compared["scenario"]["name"] == saved["name"]
    assert saved["id"] in [s["id"] for s in finance.ok("GET", "/api/erp/cash-flow-scenarios")["items"]]
    renamed = finance.ok("PATCH", f"/api/erp/cash-flow-scenarios/{saved['id']}", json={"name": f"{saved['name']}!"})
    assert renamed["name"].endswith("!")
    assert as_role(stack, "project_manager").post("/api/erp/cash-flow-scenarios", json={
        "name": "x", "adjustments": [{"type": "hire", "monthly_cost": "1.00", "start_date": AS_OF}]}).status_code == 403
    assert finance.delete(f"/api/erp/cash-flow-scenarios/{saved['id']}").status_code == 204
    assert finance.get(f"/api/erp/cash-flow-scenarios/{saved['id']}").status_code == 404


def test_bad_scenarios_and_missing_rates(stack: Stack, known: dict[str, Any], finance: RoleApi) -> None:
    unknown = "00000000-0000-4000-8000-00000000dead"
    for adjustment, slug in (({"type": "client_pays_late", "client_id": unknown, "days": 5}, "unknown-client"),
                             ({"type": "bill_paid_early", "bill_id": unknown, "pay_on": AS_OF}, "unknown-bill"),
                             ({"type": "deal_lost", "deal_id": unknown}, "unknown-deal"),
                             ({"type": "hire", "monthly_cost": "-3000.00", "start_date": AS_OF}, ""),
                             ({"type": "hire", "monthly_cost": "10.001", "start_date": AS_OF,
                               "currency": "EUR"}, "invalid-money"),
                             ({"type": "client_pays_late", "client_id": unknown, "days": 9999}, ""),
                             ({"type": "raise_prices"}, "")):
        response = finance.post("/api/erp/cash-flow-scenarios", json={"name": "Bad", "adjustments": [adjustment]})
        assert response.status_code == 422, (adjustment, response.text)
        assert response.json()["type"].endswith(slug), (adjustment, response.json())
    assert count(stack, "cash_scenarios", "name = 'Bad'") == 0
    for body in ({"name": "Rent", "kind": "rent", "amount": "-1.00", "currency": "EUR", "start_date": AS_OF},
                 {"name": "Rent", "kind": "rent", "amount": "1.00", "currency": "EUR", "start_date": AS_OF,
                  "end_date": "2031-01-01"},
                 {"name": "Rent", "kind": "party", "amount": "1.00", "currency": "EUR", "start_date": AS_OF},
                 {"name": "Rent", "kind": "rent", "amount": "1.001", "currency": "EUR", "start_date": AS_OF}):
        assert finance.post("/api/erp/recurring-items", json=body).status_code == 422, body
    # A cost in a currency without a rate for the forecast's day: the forecast says which, instead of guessing.
    # Every currency the other modules left behind gets a rate that day; the cost is in one nobody else uses.
    rate_every_currency(stack, finance, "2035-06-04")
    used = {row[0] for row in sql(stack, "SELECT DISTINCT currency FROM exchange_rates")}
    unrated = next(c for c in ("SEK", "NOK", "DKK", "PLN", "CZK", "HUF") if c not in used)
    finance.ok("POST", "/api/erp/recurring-items", 201, json={
        "name": "Nordic hosting", "kind": "software", "amount": "99.00", "currency": unrated, "interval": "month",
        "start_date": "2035-06-10", "end_date": "2035-12-31"})
    missing = finance.get("/api/erp/cash-flow-scenarios/baseline", params={"as_of": "2035-06-04", "weeks": 4})
    assert missing.status_code == 422 and missing.json()["type"].endswith("/missing-exchange-rate")
    assert missing.json()["currency"] == unrated


def test_weighted_pipeline_and_deal_scenarios(stack: Stack, known: dict[str, Any], finance: RoleApi) -> None:
    """An open deal of 8,000.00 expected to close 2031-03-05: weighted by its stage's probability, paid after its
    client's 30 days' terms (04-04, week 4). Won, it counts in full; lost, not at all; won a week late, a week later."""
    with as_role(stack, "admin") as admin:
        client = new_client(admin, stack)
        deal = admin.new_deal(client["crm_company_id"], amount="8000.00", expected_close_date="2031-03-05")
    probability = wait_for(lambda: scalar(stack, f"SELECT probability FROM pipeline_deals WHERE deal_id = "
                                                 f"'{deal['id']}' AND status = 'open'") or None, 15,
                           "the deal in the ERP's pipeline")
    weighted = (Decimal("8000.00") * Decimal(probability) / 100).quantize(Decimal("0.01"))
    assert client["payment_terms_days"] == 30
    baseline = _baseline(finance)
    assert Decimal(baseline["weeks"][4]["pipeline"]) >= weighted

    def deltas(*adjustments: dict[str, Any]) -> list[Decimal]:
        compared = finance.ok("POST", "/api/erp/cash-flow-scenarios/preview", params={"as_of": AS_OF, "weeks": WEEKS},
                              json={"adjustments": list(adjustments)})
        return [Decimal(d) for d in _deltas(compared)]

    zero = [Decimal(0)] * 4
    assert deltas({"type": "deal_lost", "deal_id": deal["id"]}) == zero + [-weighted] * 4
    assert deltas({"type": "deal_won", "deal_id": deal["id"]}) == zero + [Decimal("8000.00") - weighted] * 4
    later = deltas({"type": "deal_won", "deal_id": deal["id"], "won_on": "2031-03-12"})
    assert later == zero + [-weighted] + [Decimal("8000.00") - weighted] * 3

    # Sales sets billing terms on the open deal (two weekly installments from its close): deal.updated carries
    # them, and the forecast plans the deal on them: half paid in week 4, the other half in week 5.
    with as_role(stack, "admin") as admin:
        admin.ok("PATCH", f"/api/crm/deals/{deal['id']}", json={"billing": {
            "type": "fixed", "installments": 2, "interval": "week", "start_date": "2031-03-05"}})
    wait_for(lambda: scalar(stack, f"SELECT billing_terms->>'installments' FROM pipeline_deals WHERE deal_id = "
                                   f"'{deal['id']}'") == "2", 15, "the deal's terms in the ERP's pipeline")
    half = (Decimal("4000.00") * Decimal(probability) / 100).quantize(Decimal("0.01"))
    assert deltas({"type": "deal_lost", "deal_id": deal["id"]}) == zero + [-half] + [-2 * half] * 3

    # A saved scenario outlives its deal: once the deal is lost in the CRM it has no flows left, and the scenario
    # still answers (the same as the baseline) instead of refusing.
    saved = finance.ok("POST", "/api/erp/cash-flow-scenarios", 201, json={
        "name": f"Lose {deal['id'][:8]}", "adjustments": [{"type": "deal_lost", "deal_id": deal["id"]}]})
    with as_role(stack, "admin") as admin:
        admin.ok("POST", f"/api/crm/deals/{deal['id']}/lose", json={"reason": "Budget cut"})
    wait_for(lambda: scalar(stack, f"SELECT status FROM pipeline_deals WHERE deal_id = '{deal['id']}'") == "lost", 15,
             "the loss in the ERP's pipeline")
    after = finance.ok("GET", f"/api/erp/cash-flow-scenarios/{saved['id']}", params={"as_of": AS_OF, "weeks": WEEKS})
    assert [Decimal(d) for d in _deltas(after)] == [Decimal(0)] * WEEKS
    assert finance.post("/api/erp/cash-flow-scenarios/preview", params={"as_of": AS_OF}, json={
        "adjustments": [{"type": "deal_lost", "deal_id": deal["id"]}]}).status_code == 422
