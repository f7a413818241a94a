"""The weighted forecast by month and owner, with conversion per stage and average time in stage."""

from typing import Any

from tests.crm.helpers import suffix
from tests.support import Api, fixed_terms


def test_forecast_by_month_owner_and_stage_conversion(sales: Api) -> None:
    s = suffix()
    pipeline = sales.ok("POST", "/api/crm/pipelines", 201, json={"name": f"Forecast {s}", "stages": [
        {"name": "A", "probability": "20"}, {"name": "B", "probability": "60"},
        {"name": "Won", "probability": "100", "kind": "won"}, {"name": "Lost", "probability": "0", "kind": "lost"}]})
    pid = pipeline["id"]
    stage_b = pipeline["stages"][1]["id"]
    company = sales.new_company()
    one, two = f"fc1-{s}", f"fc2-{s}"

    def deal(amount: str, currency: str, owner: str, close: str | None) -> dict[str, Any]:
        extra: dict[str, Any] = {"pipeline_id": pid, "owner_id": owner}
        if close:
            extra["expected_close_date"] = close
        return sales.new_deal(company["id"], amount=amount, currency=currency, **extra)

    deal("1000.00", "EUR", one, "2027-01-10")
    d2 = deal("2000.00", "EUR", one, "2027-01-20")
    sales.ok("POST", f"/api/crm/deals/{d2['id']}/stage", json={"stage_id": stage_b})
    deal("500.00", "USD", two, "2027-02-05")
    deal("333.33", "EUR", one, None)
    d5 = deal("800.00", "EUR", one, "2027-01-15")
    sales.ok("POST", f"/api/crm/deals/{d5['id']}/stage", json={"stage_id": stage_b})
    sales.ok("POST", f"/api/crm/deals/{d5['id']}/win", json={"billing": fixed_terms(1)})
    d6 = deal("900.00", "EUR", two, "2027-01-15")
    sales.ok("POST", f"/api/crm/deals/{d6['id']}/lose", json={"reason": "budget"})

    report = sales.ok("GET", "/api/crm/reports/forecast", params={"pipeline_id": pid})
    months = {(r["month"], r["currency"]): (r["count"], r["amount"], r["weighted_amount"]) for r in report["by_month"]}
    assert months == {("2027-01", "EUR"): (2, "3000.00", "1400.00"), ("2027-02", "USD"): (1, "500.00", "100.00"),
                      (None, "EUR"): (1, "333.33", "66.67")}
    owners = {(r["owner_id"], r["currency"]): (r["count"], r["amount"], r["weighted_amount"])
              for r in report["by_owner"]}
    assert owners == {(one, "EUR"): (3, "3333.33", "1466.67"), (two, "USD"): (1, "500.00", "100.00")}
    assert {r["currency"]: r["count"] for r in report["totals"]} == {"EUR": 3, "USD": 1}
    assert [r["month"] for r in report["by_month"]] == ["2027-01", "2027-02", None]

    stages = {st["name"]: st for st in report["stages"]}
    assert [st["name"] for st in report["stages"]] == ["A", "B", "Won", "Lost"]
    assert (stages["A"]["entered"], stages["A"]["advanced"], stages["A"]["conversion_rate"]) == (6, 2, "0.3333")
    assert (stages["B"]["entered"], stages["B"]["advanced"], stages["B"]["conversion_rate"]) == (2, 1, "0.5000")
    assert stages["Won"]["entered"] == 1 and stages["Lost"]["entered"] == 1
    assert stages["A"]["open_deals"] == 3 and stages["B"]["open_deals"] == 1
    assert stages["A"]["average_seconds_in_stage"] is not None and stages["A"]["average_seconds_in_stage"] >= 0
    assert stages["Won"]["average_seconds_in_stage"] is None  # nobody has left it

    january = sales.ok("GET", "/api/crm/reports/forecast", params={
        "pipeline_id": pid, "owner_id": one, "close_from": "2027-01-01", "close_to": "2027-01-31"})
    assert [(r["month"], r["count"]) for r in january["by_month"]] == [("2027-01", 2)]
    # The stage statistics are the pipeline's, whatever the owner and date filters of the forecast.
    unfiltered = [st["open_deals"] for st in report["stages"]]
    assert [st["open_deals"] for st in january["stages"]] == unfiltered == [3, 1, 0, 0]


def test_forecast_input_errors(sales: Api) -> None:
    assert sales.get("/api/crm/reports/forecast", params={"close_from": "2027-02-01",
                                                          "close_to": "2027-01-01"}).status_code == 422
    assert sales.get("/api/crm/reports/forecast", params={"close_from": "soon"}).status_code == 422
    assert sales.get("/api/crm/reports/forecast",
                     params={"pipeline_id": "00000000-0000-4000-8000-00000000dead"}).status_code == 404
    default = sales.ok("GET", "/api/crm/reports/forecast")
    assert default["pipeline_id"] == "00000000-0000-4000-8000-000000000001"
