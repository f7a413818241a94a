"""Exchange rates per day: none shipped (and the API says so), entered or imported from CSV (all rows or none),
the conversion into the base currency and its 422 without a rate."""

from typing import Any

from devstack.stack import Stack
from tests.erp_cash.helpers import count
from tests.erp_costs.helpers import RoleApi, as_role


def _upload(api: RoleApi, text: str) -> Any:
    return api.client.post("/api/erp/exchange-rates/import", files={"file": ("rates.csv", text.encode(), "text/csv")})


def test_rates_entered_imported_and_converted(stack: Stack, finance: RoleApi, base: dict[str, Any]) -> None:
    page = finance.ok("GET", "/api/erp/exchange-rates")
    assert page["base_currency"] == "EUR"
    # The note says that no rates are shipped whenever there are none at all.
    assert (page["note"] is not None) == (page["total"] == 0)
    if page["total"] == 0:
        assert "No exchange rates are shipped" in page["note"]

    entered = finance.ok("PUT", "/api/erp/exchange-rates",
                         json={"currency": "SEK", "rate_date": "2026-11-02", "rate": "0.0871"})
    assert (entered["base_currency"], entered["source"]) == ("EUR", "manual")
    again = finance.ok("PUT", "/api/erp/exchange-rates",
                       json={"currency": "SEK", "rate_date": "2026-11-02", "rate": "0.0872"})
    assert again["id"] == entered["id"] and again["rate"] == "0.0872000000"  # a day has one rate: replaced
    assert finance.ok("GET", "/api/erp/exchange-rates")["note"] is None

    imported = _upload(finance, "date,currency,rate\n2026-11-03,SEK,0.0875\n2026-11-03,NOK,0.0851\n"
                                "2026-11-04,nok,0.0849\n")
    assert imported.status_code == 201, imported.text
    assert imported.json()["imported"] == 3 and imported.json()["currencies"] == ["NOK", "SEK"]
    listed = finance.ok("GET", "/api/erp/exchange-rates", params={"currency": "NOK"})["items"]
    assert [(r["rate_date"], r["source"]) for r in listed] == [("2026-11-04", "csv"), ("2026-11-03", "csv")]

    # Sunday 2026-11-08 converts at Wednesday's rate (the latest within 7 days); 2026-11-12 has none that recent.
    converted = finance.ok("GET", "/api/erp/exchange-rates/convert",
                           params={"amount": "1000.00", "currency": "NOK", "on_date": "2026-11-08"})
    assert (converted["base_amount"], converted["rate_date"]) == ("84.90", "2026-11-04")
    missing = finance.get("/api/erp/exchange-rates/convert",
                          params={"amount": "1000.00", "currency": "NOK", "on_date": "2026-11-12"})
    assert missing.status_code == 422 and missing.json()["type"].endswith("/missing-exchange-rate")
    assert missing.json()["currency"] == "NOK" and "2026-11-12" in missing.json()["detail"]
    same = finance.ok("GET", "/api/erp/exchange-rates/convert",
                      params={"amount": "12.34", "currency": "EUR", "on_date": "2026-11-12"})
    assert same["base_amount"] == "12.34"


def test_bad_rates_are_refused_and_nothing_is_written(stack: Stack, finance: RoleApi, base: dict[str, Any]) -> None:
    before = count(stack, "exchange_rates")
    for body in ({"currency": "EUR", "rate_date": "2026-11-02", "rate": "1"},  # the base currency
                 {"currency": "XYZ", "rate_date": "2026-11-02", "rate": "1"},
                 {"currency": "USD", "rate_date": "2026-11-02", "rate": "0"},
                 {"currency": "USD", "rate_date": "2026-11-02", "rate": "-1.2"},
                 {"currency": "USD", "rate_date": "2026-11-02", "rate": "100000000"},
                 {"currency": "USD", "rate_date": "1970-01-01", "rate": "0.9"},
                 {"currency": "USD", "rate_date": "2026-11-02", "rate": 0.9}):
        response = finance.client.put("/api/erp/exchange-rates", json=body)
        assert response.status_code == 422, (body, response.text)
    bad_file = _upload(finance, "date,currency,rate\n2026-11-05,USD,0.91\n2026-13-01,USD,0.9\n2026-11-06,EUR,1\n"
                                "2026-11-07,USD,abc\n")
    assert bad_file.status_code == 422
    assert [e["row"] for e in bad_file.json()["errors"]] == [3, 4, 5]
    assert _upload(finance, "day,code,value\n2026-11-05,USD,0.91\n").status_code == 422
    assert _upload(finance, "date,currency,rate\n").status_code == 422
    assert count(stack, "exchange_rates") == before
    for role in ("sales", "project_manager", "viewer"):
        response = as_role(stack, role).client.put(
            "/api/erp/exchange-rates", json={"currency": "USD", "rate_date": "2026-11-02", "rate": "0.9"})
        assert response.status_code == 403
