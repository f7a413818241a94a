"""The finance reports, each reconciled with sums taken straight from the ledger rows."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_costs.helpers import (
    RoleApi,
    as_role,
    new_client,
    new_cost_center,
    new_expense,
    new_project,
    scalar,
    sql,
    suffix,
    upload_receipt,
)
from tests.support import ensure_person

TODAY = datetime.now(UTC).date()


def D(value: Any) -> Decimal:
    return Decimal(str(value or "0"))


@pytest.fixture(scope="module")
def books(stack: Stack, boss: RoleApi) -> dict[str, Any]:
    """One client's books: a project with time (two people, one priced in another currency), rates that change
    mid-year, expenses in every state, two issued invoices, a partial payment, a credit note, a draft."""
    finance, pm, sales = as_role(stack, "finance"), as_role(stack, "project_manager"), as_role(stack, "sales")
    client = new_client(boss, stack, currency="EUR")
    center = new_cost_center(boss, "Studio")
    project = new_project(pm, client["id"], budget_amount="10000.00", budget_hours="100",
                          cost_center_id=center["id"])
    dev, contractor = f"dev-{suffix()}", f"contractor-{suffix()}"
    for someone in (dev, contractor):
        ensure_person(stack, someone)
    for person, cost, currency, start in ((dev, "50.00", "EUR", "2026-01-01"), (dev, "60.00", "EUR", "2026-06-01"),
                                          (contractor, "70.00", "USD", "2026-01-01")):
        finance.ok("POST", "/api/erp/cost-rates", 201, json={"user_id": person, "hourly_cost": cost,
                                                             "currency": currency, "effective_from": start})
    for person, day, hours in ((dev, "2026-03-10", "10"), (dev, "2026-07-01", "5"), (contractor, "2026-07-02", "2")):
        pm.ok("POST", "/api/erp/time-entries", 201, json={"project_id": project["id"], "person_id": person,
                                                          "work_date": day, "hours": hours})

    def expense(amount: str, then: str | None, **fields: Any) -> dict[str, Any]:
        e = new_expense(sales, amount=amount, expense_date="2026-07-03", **fields)
        if D(amount) > 50:
            upload_receipt(sales, e["id"])
        if then:
            sales.ok("POST", f"/api/erp/expenses/{e['id']}/submit")
        if then in ("approved", "rejected"):
            verb = "approve" if then == "approved" else "reject"
            finance.ok("POST", f"/api/erp/expenses/{e['id']}/{verb}", json={"comment": "ok"})
        return e

    approved = expense("200.00", "approved", project_id=project["id"], billable=True)
    expense("30.00", "submitted", project_id=project["id"])
    expense("40.00", "rejected", project_id=project["id"])
    expense("15.00", None, project_id=project["id"])
    direct = expense("75.00", "approved", cost_center_id=center["id"])

    def issued(lines: list[dict[str, Any]], terms: int) -> dict[str, Any]:
        draft = finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"], "lines": lines,
                                                                   "payment_terms_days": terms})
        return finance.ok("POST", f"/api/erp/invoices/{draft['id']}/issue")  # type: ignore[no-any-return]

    first = issued([{"description": "Design", "quantity": "1", "unit_price": "3000.00", "tax_rate": "20"}], 0)
    # Its own 0 %: without a rate a line takes the default, which follows the company profile other tests set.
    second = issued([{"description": "Hosting", "quantity": "2", "unit_price": "250.00", "tax_rate": "0"}], 45)
    finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"], "lines": [
        {"description": "Not yet", "quantity": "1", "unit_price": "999.00"}]})
    finance.ok("POST", f"/api/erp/invoices/{first['id']}/payments", 201,
               json={"amount": "1000.00", "paid_on": TODAY.isoformat()})
    finance.ok("POST", f"/api/erp/invoices/{first['id']}/credit-note", 201,
               json={"reason": "Goodwill", "amount": "600.00"})
    return {"client": client, "center": center, "project": project, "approved": approved, "direct": direct,
            "first": first, "second": second, "dev": dev, "contractor": contractor}


def test_profitability_per_project(stack: Stack, books: dict[str, Any]) -> None:
    viewer = as_role(stack, "viewer")
    report = viewer.ok("GET", "/api/erp/reports/profitability", params={"client_id": books["client"]["id"]})
    [row] = report["items"]
    assert row["project_id"] == books["project"]["id"] and row["currency"] == "EUR"
    # 3000 net invoiced + 500 net, less the 600 credit note; the draft does not count.
    assert D(row["revenue_invoiced"]) == Decimal("2900.00")
    # Time at the rate of its day: 10 h x 50 + 5 h x 60; the contractor's USD rate cannot price EUR work.
    assert D(row["cost_time"]) == Decimal("800.00") and D(row["unpriced_hours"]) == 2
    assert D(row["cost_expenses"]) == Decimal("200.00")  # approved only
    assert D(row["cost_total"]) == Decimal("1000.00")
    assert D(row["margin"]) == Decimal("1900.00") and D(row["margin_percent"]) == Decimal("65.52")
    # Percentage of completion by effort: 17 of 100 budget hours of a 10,000 budget.
    assert D(row["revenue_recognised"]) == Decimal("1700.00") and D(row["recognised_margin"]) == Decimal("700.00")
    assert D(row["budget_burn_percent"]) == 10 and D(row["hours_burn_percent"]) == 17
    assert D(row["hours_logged"]) == 17

    # A period: only July's work, July's expenses and (none of) July's invoices.
    july = viewer.ok("GET", "/api/erp/reports/profitability", params={
        "client_id": books["client"]["id"], "date_from": "2026-07-01", "date_to": "2026-07-31"})["items"][0]
    assert D(july["cost_time"]) == Decimal("300.00") and D(july["revenue_invoiced"]) == 0
    assert D(july["revenue_recognised"]) == Decimal("700.00")  # (17 - 10) % of the budget
    bad = viewer.get("/api/erp/reports/profitability", params={"currency": "ABC"})
    assert bad.status_code == 422 and "ISO 4217" in bad.json()["detail"]
    assert viewer.get("/api/erp/reports/profitability", params={"group_by": "planet"}).status_code == 422


def test_profitability_reconciles_with_the_ledger(stack: Stack, books: dict[str, Any]) -> None:
    client_id = books["client"]["id"]
    report = as_role(stack, "finance").ok("GET", "/api/erp/reports/profitability", params={"client_id": client_id})
    [totals] = report["totals"]
    invoiced = D(scalar(stack, f"""
        SELECT SUM(CASE WHEN i.kind = 'invoice' THEN i.subtotal ELSE -i.subtotal END) FROM invoices i
        LEFT JOIN invoices o ON o.id = i.credit_of_id
        WHERE i.status NOT IN ('draft', 'void') AND i.client_id = '{client_id}'"""))
    expenses = D(scalar(stack, f"""
        SELECT SUM(e.amount - e.tax_amount) FROM expenses e JOIN projects p ON p.id = e.project_id
        WHERE e.status = 'approved' AND p.client_id = '{client_id}'"""))
    time_cost = D(scalar(stack, f"""
        SELECT SUM(t.hours * (SELECT r.hourly_cost FROM cost_rates r WHERE r.user_id = t.person_id
                              AND r.effective_from <= t.work_date AND r.currency = 'EUR'
                              ORDER BY r.effective_from DESC LIMIT 1))
        FROM time_entries t JOIN projects p ON p.id = t.project_id WHERE p.client_id = '{client_id}'"""))
    payments = D(scalar(stack, f"SELECT SUM(pm.amount) FROM payments pm JOIN invoices i ON i.id = pm.invoice_id "
                               f"WHERE i.client_id = '{client_id}'"))
    assert D(totals["revenue_invoiced"]) == invoiced == Decimal("2900.00")
    assert D(totals["cost_expenses"]) == expenses and D(totals["cost_time"]) == time_cost
    assert D(totals["margin"]) == invoiced - expenses - time_cost
    assert payments == Decimal("1000.00")  # payments are cash, not revenue: they change nothing above
    for group_by in ("client", "cost_center"):
        grouped = as_role(stack, "viewer").ok("GET", "/api/erp/reports/profitability",
                                              params={"client_id": client_id, "group_by": group_by})
        assert grouped["totals"] == report["totals"], group_by
        assert grouped["total"] == 1 and grouped["items"][0]["projects"] == 1


def test_profitability_by_cost_center_carries_direct_expenses(stack: Stack, books: dict[str, Any]) -> None:
    center = books["center"]
    report = as_role(stack, "viewer").ok("GET", "/api/erp/reports/profitability",
                                         params={"group_by": "cost_center", "cost_center_id": center["id"]})
    [row] = report["items"]
    assert row["cost_center_id"] == center["id"] and row["cost_center_code"] == center["code"]
    assert D(row["cost_expenses"]) == Decimal("275.00")  # 200 on its project + 75 booked on the center itself
    assert D(row["revenue_invoiced"]) == Decimal("2900.00") and D(row["cost_total"]) == Decimal("1075.00")
    ledger = D(scalar(stack, f"""
        SELECT SUM(e.amount) FROM expenses e LEFT JOIN projects p ON p.id = e.project_id
        WHERE e.status = 'approved' AND (p.cost_center_id = '{center['id']}'
              OR (e.project_id IS NULL AND e.cost_center_id = '{center['id']}'))"""))
    assert D(report["totals"][0]["cost_expenses"]) == ledger


def test_ar_aging_buckets_reconcile_with_balances(stack: Stack, books: dict[str, Any]) -> None:
    finance = as_role(stack, "finance")
    client_id = books["client"]["id"]
    today = finance.ok("GET", "/api/erp/reports/ar-aging", params={"client_id": client_id})
    [row] = today["items"]
    # First invoice: 3600 gross - 1000 paid - 600 credited, due today; second: 500, due in 45 days.
    assert (D(row["days_0_30"]), D(row["not_due"]), D(row["total"]), row["invoices"]) == (
        Decimal("2000.00"), Decimal("500.00"), Decimal("2500.00"), 2)
    balances = D(scalar(stack, f"SELECT SUM(balance_due) FROM invoices WHERE client_id = '{client_id}' "
                               "AND kind = 'invoice' AND status IN ('issued', 'partially_paid')"))
    assert D(today["totals"][0]["total"]) == balances == Decimal("2500.00")

    later = finance.ok("GET", "/api/erp/reports/ar-aging", params={
        "client_id": client_id, "as_of": (TODAY + timedelta(days=50)).isoformat()})["items"][0]
    assert (D(later["days_31_60"]), D(later["days_0_30"]), D(later["not_due"])) == (
        Decimal("2000.00"), Decimal("500.00"), Decimal(0))
    much_later = finance.ok("GET", "/api/erp/reports/ar-aging", params={
        "client_id": client_id, "as_of": (TODAY + timedelta(days=120)).isoformat()})["items"][0]
    assert (D(much_later["days_90_plus"]), D(much_later["days_61_90"])) == (Decimal("2000.00"), Decimal("500.00"))
    before = finance.ok("GET", "/api/erp/reports/ar-aging", params={
        "client_id": client_id, "as_of": (TODAY - timedelta(days=1)).isoformat()})
    assert before["items"] == [] and before["totals"] == []


def test_cash_flow_forecast_reconciles(stack: Stack, books: dict[str, Any]) -> None:
    finance = as_role(stack, "finance")
    client_id = books["client"]["id"]
    params = {"client_id": client_id, "interval": "week", "date_from": TODAY.isoformat(),
              "date_to": (TODAY + timedelta(weeks=10)).isoformat()}
    report = finance.ok("GET", "/api/erp/reports/cash-flow", params=params)
    [totals] = report["totals"]
    assert D(totals["invoices_due"]) == Decimal("2500.00")
    assert D(totals["expenses_to_reimburse"]) == Decimal("200.00")  # the project's approved, unpaid expense
    assert D(totals["net"]) == Decimal("2300.00")
    weeks = report["items"]
    assert D(weeks[0]["invoices_due"]) == Decimal("2000.00") and D(weeks[0]["expenses_to_reimburse"]) == 200
    due_second = date.fromisoformat(books["second"]["due_date"])
    [second_week] = [w for w in weeks if w["period_start"] <= due_second.isoformat() <= w["period_end"]]
    assert D(second_week["invoices_due"]) == Decimal("500.00")
    assert D(weeks[-1]["cumulative_net"]) == D(totals["net"])
    assert sum(D(w["net"]) for w in weeks) == D(totals["net"])
    ledger_in = D(scalar(stack, f"SELECT SUM(balance_due) FROM invoices WHERE client_id = '{client_id}' AND "
                                "kind = 'invoice' AND status IN ('issued', 'partially_paid')"))
    ledger_out = D(scalar(stack, f"SELECT SUM(e.amount) FROM expenses e JOIN projects p ON p.id = e.project_id "
                                 f"WHERE p.client_id = '{client_id}' AND e.status = 'approved' "
                                 "AND e.reimbursed_at IS NULL"))
    assert D(totals["inflow"]) == ledger_in and D(totals["expenses_to_reimburse"]) == ledger_out

    finance.ok("POST", f"/api/erp/expenses/{books['approved']['id']}/reimburse")
    assert finance.post(f"/api/erp/expenses/{books['approved']['id']}/reimburse").status_code == 409
    after = finance.ok("GET", "/api/erp/reports/cash-flow", params=params)["totals"][0]
    assert D(after["expenses_to_reimburse"]) == 0 and D(after["net"]) == Decimal("2500.00")
    monthly = finance.ok("GET", "/api/erp/reports/cash-flow", params={**params, "interval": "month"})
    assert all(p["period_start"].endswith("-01") for p in monthly["items"])
    assert D(monthly["totals"][0]["inflow"]) == Decimal("2500.00")
    bad = finance.get("/api/erp/reports/cash-flow", params={"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert bad.status_code == 422


def test_time_and_materials_recognised_at_bill_rates_up_to_the_cap(stack: Stack, boss: RoleApi) -> None:
    pm = as_role(stack, "project_manager")
    deal = boss.won_deal(billing={"type": "time_and_materials", "hourly_rate": "100.00", "cap": "1000.00"},
                         amount="1000.00")
    project = boss.project_of(deal["id"])
    pm.ok("POST", f"/api/erp/projects/{project['id']}/bill-rates", 201,
          json={"hourly_rate": "150.00", "effective_from": "2026-07-01"})
    person = f"dev-{suffix()}"
    ensure_person(stack, person)

    def entry(day: str, hours: str, billable: bool = True, approve: bool = True) -> None:
        e = pm.ok("POST", "/api/erp/time-entries", 201, json={
            "project_id": project["id"], "person_id": person, "work_date": day, "hours": hours, "billable": billable})
        if approve:
            pm.ok("POST", f"/api/erp/time-entries/{e['id']}/approve")

    entry("2026-06-10", "4")  # 4 h x 100 (the schedule's rate before the bill rate starts)
    entry("2026-07-10", "2")  # 2 h x 150
    entry("2026-07-11", "2", billable=False)  # not billable: no revenue
    entry("2026-07-12", "3", approve=False)  # not approved yet: no revenue
    params = {"project_id": project["id"]}
    row = pm.ok("GET", "/api/erp/reports/profitability", params=params)["items"][0]
    assert D(row["revenue_recognised"]) == Decimal("700.00") and D(row["hours_logged"]) == 11
    entry("2026-07-13", "3")  # 3 h x 150 = 450 more, but the cap stops at 1000
    row = pm.ok("GET", "/api/erp/reports/profitability", params=params)["items"][0]
    assert D(row["revenue_recognised"]) == Decimal("1000.00")
    june = pm.ok("GET", "/api/erp/reports/profitability",
                 params={**params, "date_from": "2026-06-01", "date_to": "2026-06-30"})["items"][0]
    july = pm.ok("GET", "/api/erp/reports/profitability",
                 params={**params, "date_from": "2026-07-01", "date_to": "2026-07-31"})["items"][0]
    assert (D(june["revenue_recognised"]), D(july["revenue_recognised"])) == (Decimal("400.00"), Decimal("600.00"))


def test_cash_flow_counts_schedule_items_not_yet_invoiced(stack: Stack, boss: RoleApi) -> None:
    start = TODAY + timedelta(days=14)
    deal = boss.won_deal(billing={"type": "fixed", "installments": 2, "interval": "month",
                                  "start_date": start.isoformat()}, amount="3000.01")
    project = boss.project_of(deal["id"])
    client = boss.ok("GET", f"/api/erp/clients/{project['client_id']}")
    params = {"client_id": client["id"], "interval": "month", "date_from": TODAY.isoformat(),
              "date_to": (TODAY + timedelta(days=150)).isoformat()}
    report = boss.ok("GET", "/api/erp/reports/cash-flow", params=params)
    [totals] = report["totals"]
    assert D(totals["schedule_items"]) == Decimal("3000.01") and D(totals["invoices_due"]) == 0
    # Expected when the installment's invoice falls due: its date plus the client's payment terms.
    expected = start + timedelta(days=client["payment_terms_days"])
    [first] = [p for p in report["items"] if p["period_start"] <= expected.isoformat() <= p["period_end"]]
    assert D(first["schedule_items"]) == Decimal("1500.00")
    ledger = D(scalar(stack, f"""
        SELECT SUM(si.amount) FROM schedule_items si JOIN billing_schedules bs ON bs.id = si.schedule_id
        WHERE bs.project_id = '{project['id']}' AND si.status = 'pending'"""))
    assert ledger == D(totals["schedule_items"])
    short = boss.ok("GET", "/api/erp/reports/cash-flow", params={**params, "date_to": start.isoformat()})
    assert D(short["totals"][0]["beyond_horizon_inflow"]) == Decimal("3000.01")
    assert D(short["totals"][0]["inflow"]) == 0


def test_round_half_even_in_sql_is_round_money(stack: Stack) -> None:
    """The profitability report rounds in PostgreSQL (migration 0005): it must round as `round_money` does."""
    from throughline_events.money import round_money

    cases = [(Decimal(v), currency) for v in ("1.125", "1.135", "-1.125", "-1.135", "2.5", "3.5", "-2.5", "0.005",
                                              "0.015", "1.124999", "1.125001", "0", "1234.5678", "0.0050")
             for currency in ("EUR", "JPY", "KWD")]
    places = {"EUR": 2, "JPY": 0, "KWD": 3}
    values = ", ".join(f"({i}, {amount}::numeric, {places[currency]})" for i, (amount, currency) in enumerate(cases))
    rows = sql(stack, f"SELECT i, round_half_even(v, p) FROM (VALUES {values}) AS t (i, v, p) ORDER BY i")
    assert [r[1] for r in rows] == [str(round_money(amount, currency)) for amount, currency in cases]


def test_recognised_revenue_by_effort_stops_at_the_budget(stack: Stack, boss: RoleApi) -> None:
    """Percentage of completion: hours past the budget hours earn nothing more; without budget hours (and not
    time and materials) recognised revenue is what was invoiced."""
    finance, pm = as_role(stack, "finance"), as_role(stack, "project_manager")
    client = new_client(boss, stack, currency="EUR")
    by_effort = new_project(pm, client["id"], budget_amount="10000.00", budget_hours="100")
    person = f"dev-{suffix()}"
    ensure_person(stack, person)
    for day, hours in (("2026-06-01", "20"), ("2026-06-02", "20"), ("2026-06-03", "20"), ("2026-06-04", "20"),
                       ("2026-06-05", "10"), ("2026-07-01", "20"), ("2026-07-02", "20")):
        pm.ok("POST", "/api/erp/time-entries", 201, json={"project_id": by_effort["id"], "person_id": person,
                                                          "work_date": day, "hours": hours})
    july = {"project_id": by_effort["id"], "date_from": "2026-07-01", "date_to": "2026-07-31"}
    row = finance.ok("GET", "/api/erp/reports/profitability", params=july)["items"][0]
    assert D(row["revenue_recognised"]) == Decimal("1000.00")  # from 90 % to (at most) 100 %
    assert D(row["hours_logged"]) == 40 and D(row["hours_burn_percent"]) == 40
    no_measure = new_project(pm, client["id"], budget_amount="500.00", budget_hours=None)
    draft = finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": no_measure["id"], "lines": [
        {"description": "Audit", "quantity": "1", "unit_price": "123.45"}]})
    finance.ok("POST", f"/api/erp/invoices/{draft['id']}/issue")
    row = finance.ok("GET", "/api/erp/reports/profitability", params={"project_id": no_measure["id"]})["items"][0]
    assert D(row["revenue_recognised"]) == D(row["revenue_invoiced"]) == Decimal("123.45")


def test_profitability_pages_in_a_stable_order_with_totals_over_every_group(stack: Stack, boss: RoleApi) -> None:
    finance, pm = as_role(stack, "finance"), as_role(stack, "project_manager")
    client = new_client(boss, stack, currency="EUR")
    center = new_cost_center(boss, "Paging")
    person = f"dev-{suffix()}"
    ensure_person(stack, person)
    finance.ok("POST", "/api/erp/cost-rates", 201, json={"user_id": person, "hourly_cost": "33.33",
                                                         "currency": "EUR", "effective_from": "2026-01-01"})
    projects = [new_project(pm, client["id"], name=f"Paged {n} {suffix()}", cost_center_id=center["id"])
                for n in (3, 1, 2)]
    for n, project in enumerate(projects, start=1):
        pm.ok("POST", "/api/erp/time-entries", 201, json={"project_id": project["id"], "person_id": person,
                                                          "work_date": f"2026-05-0{n}", "hours": str(n)})
    params = {"client_id": client["id"]}
    whole = finance.ok("GET", "/api/erp/reports/profitability", params=params)
    assert whole["total"] == 3 and [r["project_name"] for r in whole["items"]] == sorted(p["name"] for p in projects)
    first = finance.ok("GET", "/api/erp/reports/profitability", params={**params, "limit": 2})
    rest = finance.ok("GET", "/api/erp/reports/profitability", params={**params, "limit": 2, "offset": 2})
    beyond = finance.ok("GET", "/api/erp/reports/profitability", params={**params, "offset": 5})
    assert first["items"] + rest["items"] == whole["items"] and beyond["items"] == []
    assert first["total"] == rest["total"] == beyond["total"] == 3
    # The totals cover every project whatever the page: 6 h x 33.33, each project rounded on its own.
    assert first["totals"] == rest["totals"] == beyond["totals"] == whole["totals"]
    [totals] = whole["totals"]
    assert D(totals["cost_time"]) == sum(D(r["cost_time"]) for r in whole["items"]) == Decimal("199.98")
    assert D(totals["hours_logged"]) == 6
    by_center = finance.ok("GET", "/api/erp/reports/profitability",
                           params={**params, "group_by": "cost_center", "limit": 1, "offset": 1})
    assert by_center["items"] == [] and by_center["total"] == 1 and by_center["totals"] == whole["totals"]
    assert finance.get("/api/erp/reports/profitability", params={"limit": 1001}).status_code == 422


# The time rollup recomputed independently: each entry priced by a lookup of the rate in force on its day.
LEDGER_TIME_MONTHS = """
    WITH priced AS (
        SELECT t.*, cr.currency AS cost_currency, cr.hourly_cost, br.hourly_rate FROM time_entries t
        LEFT JOIN LATERAL (SELECT r.currency, r.hourly_cost FROM cost_rates r WHERE r.user_id = t.person_id
                           AND r.effective_from <= t.work_date ORDER BY r.effective_from DESC LIMIT 1) cr ON true
        LEFT JOIN LATERAL (SELECT b.hourly_rate FROM bill_rates b WHERE b.project_id = t.project_id
                           AND b.effective_from <= t.work_date ORDER BY b.effective_from DESC LIMIT 1) br ON true
    )
    SELECT project_id, CAST(date_trunc('month', work_date) AS date), COALESCE(cost_currency, ''), SUM(hours),
           SUM(hours) FILTER (WHERE billable), SUM(hours * hourly_cost),
           SUM(hours * hourly_rate) FILTER (WHERE billable AND status = 'approved'),
           SUM(hours) FILTER (WHERE billable AND status = 'approved' AND hourly_rate IS NULL)
    FROM priced GROUP BY 1, 2, 3"""


def rollup_differences(stack: Stack) -> str:
    """Rows of report_time_months that the ledger does not give, and the other way round (one snapshot)."""
    return scalar(stack, f"""SELECT count(*) FROM (
        (TABLE report_time_months EXCEPT ({LEDGER_TIME_MONTHS}))
        UNION ALL (({LEDGER_TIME_MONTHS}) EXCEPT TABLE report_time_months)) AS differences""")


def test_time_rollup_follows_every_change_of_time_and_rates(stack: Stack, boss: RoleApi) -> None:
    """The report reads whole months of time from report_time_months, kept by triggers (migration 0006): after
    entries are added, changed, moved, approved and deleted, and rates added and removed mid-month, it still
    equals the ledger priced entry by entry, and so does the report over whole and partial months."""
    finance, pm = as_role(stack, "finance"), as_role(stack, "project_manager")
    client = new_client(boss, stack, currency="EUR")
    project = new_project(pm, client["id"], budget_hours=None)
    person = f"dev-{suffix()}"
    ensure_person(stack, person)
    first_rate = finance.ok("POST", "/api/erp/cost-rates", 201, json={
        "user_id": person, "hourly_cost": "40.00", "currency": "EUR", "effective_from": "2026-01-01"})

    def entry(day: str, hours: str) -> dict[str, Any]:
        return pm.ok("POST", "/api/erp/time-entries", 201, json={  # type: ignore[no-any-return]
            "project_id": project["id"], "person_id": person, "work_date": day, "hours": hours})

    jan, feb, mar = entry("2026-01-20", "3"), entry("2026-02-10", "4"), entry("2026-03-05", "6")
    entry("2026-02-20", "5")
    pm.ok("POST", f"/api/erp/time-entries/{jan['id']}/approve")
    assert rollup_differences(stack) == "0"
    pm.ok("PATCH", f"/api/erp/time-entries/{feb['id']}", json={"work_date": "2026-04-01", "hours": "2.5"})
    assert pm.delete(f"/api/erp/time-entries/{mar['id']}").status_code == 204
    second_rate = finance.ok("POST", "/api/erp/cost-rates", 201, json={
        "user_id": person, "hourly_cost": "50.00", "currency": "EUR", "effective_from": "2026-02-15"})
    bill = pm.ok("POST", f"/api/erp/projects/{project['id']}/bill-rates", 201,
                 json={"hourly_rate": "90.00", "effective_from": "2026-01-15"})
    assert rollup_differences(stack) == "0"
    # 3 h x 40 in January; 5 h x 50 (from Feb 15th) in February; 2.5 h x 50 in April.
    report = finance.ok("GET", "/api/erp/reports/profitability", params={"project_id": project["id"]})
    assert D(report["items"][0]["cost_time"]) == Decimal("495.00") and D(report["items"][0]["hours_logged"]) == 10.5
    mid = finance.ok("GET", "/api/erp/reports/profitability", params={
        "project_id": project["id"], "date_from": "2026-01-25", "date_to": "2026-02-20"})["items"][0]
    assert D(mid["cost_time"]) == Decimal("250.00") and D(mid["hours_logged"]) == 5
    assert finance.delete(f"/api/erp/cost-rates/{second_rate['id']}").status_code == 204
    assert pm.delete(f"/api/erp/bill-rates/{bill['id']}").status_code == 204
    assert finance.delete(f"/api/erp/cost-rates/{first_rate['id']}").status_code == 204
    assert rollup_differences(stack) == "0"
    row = finance.ok("GET", "/api/erp/reports/profitability", params={"project_id": project["id"]})["items"][0]
    assert D(row["cost_time"]) == 0 and D(row["unpriced_hours"]) == Decimal("10.5")
