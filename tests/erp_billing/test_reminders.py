"""Dunning: each step once per invoice, missed steps caught up in one run after downtime, late fee, stop on
payment, a record of every reminder. Runs are as of today (a future date is refused): an invoice is made overdue
by moving its due date back (`overdue_by`)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, d, fixed, issued, line, overdue_by, pay, project_for, today
from tests.support import Api


@pytest.fixture(scope="module")
def project(admin: Api) -> dict[str, Any]:
    return project_for(admin, fixed(1, today() + timedelta(days=400)), amount="1000.00")


def remind(api: Api, **scope: str) -> list[dict[str, Any]]:
    body = {"as_of": today().isoformat(), **scope}
    reminders: list[dict[str, Any]] = api.ok("POST", "/api/erp/reminder-runs", json=body)["reminders"]
    return reminders


def test_steps_once_each_caught_up_after_downtime_with_late_fee(stack: Stack, finance: Api,
                                                                 project: dict[str, Any]) -> None:
    invoice = issued(finance, project, [line("Build", "1", "1000.00")], payment_terms_days=0, late_fee_percent="2")
    scope = {"invoice_id": invoice["id"]}
    assert remind(finance, **scope) == []  # due today; the first step comes 3 days after
    overdue_by(stack, invoice["id"], 2)
    assert remind(finance, **scope) == []
    overdue_by(stack, invoice["id"], 3)
    first = remind(finance, **scope)
    assert [(r["invoice_id"], r["step"], r["days_overdue"]) for r in first] == [(invoice["id"], 1, 3)]
    assert first[0]["channel"] == "log" and first[0]["delivery_status"] == "logged" and first[0]["sent_at"]
    assert invoice["number"] in first[0]["subject"] and "1000.00 EUR" in first[0]["body"]
    assert remind(finance, **scope) == []
    overdue_by(stack, invoice["id"], 5)
    assert remind(finance, **scope) == []  # once per step

    # The service was "down" for weeks: one run sends both missed steps, the last with the late fee.
    overdue_by(stack, invoice["id"], 40)
    caught_up = remind(finance, **scope)
    assert [(r["step"], r["days_after_due"], r["late_fee"]) for r in caught_up] == [(2, 7, "0.0000"),
                                                                                    (3, 14, "20.0000")]
    after = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")
    assert (after["total"], after["balance_due"]) == ("1020.00", "1020.00")
    assert after["lines"][-1]["kind"] == "late_fee" and after["lines"][-1]["net_amount"] == "20.00"
    overdue_by(stack, invoice["id"], 400)
    assert remind(finance, **scope) == []

    record = finance.ok("GET", "/api/erp/reminders", params={"invoice_id": invoice["id"]})
    assert record["total"] == 3 and sorted(r["step"] for r in record["items"]) == [1, 2, 3]


def test_payment_stops_reminders(stack: Stack, finance: Api, project: dict[str, Any]) -> None:
    partly = issued(finance, project, [line("A", "1", "300.00")], payment_terms_days=0)
    paid = issued(finance, project, [line("B", "1", "300.00")], payment_terms_days=0)
    pay(finance, partly["id"], "100.00")
    pay(finance, paid["id"], "300.00")
    for invoice in (partly, paid):
        overdue_by(stack, invoice["id"], 4)
    sent = remind(finance, client_id=project["client_id"])
    assert [r["invoice_id"] for r in sent] == [partly["id"]]  # partly paid: still dunned, on what is left
    assert d(sent[0]["balance_due"]) == d("200.00")
    pay(finance, partly["id"], "200.00")
    overdue_by(stack, partly["id"], 30)
    assert remind(finance, client_id=project["client_id"]) == []
    assert finance.ok("GET", "/api/erp/reminders", params={"invoice_id": paid["id"]})["total"] == 0


def test_concurrent_runs_send_each_step_once(stack: Stack, finance: Api, project: dict[str, Any]) -> None:
    invoices = [issued(finance, project, [line("C", "1", "50.00")], payment_terms_days=0)["id"] for _ in range(3)]
    for invoice_id in invoices:
        overdue_by(stack, invoice_id, 20)
    body = {"as_of": today().isoformat(), "client_id": project["client_id"]}
    with as_role(stack, "finance", direct=True) as api:
        def run(_: int) -> list[tuple[str, int]]:
            response = api.post("/api/erp/reminder-runs", json=body)
            assert response.status_code == 200, response.text
            return [(r["invoice_id"], r["step"]) for r in response.json()["reminders"]]

        with ThreadPoolExecutor(max_workers=4) as pool:
            sent = [pair for pairs in pool.map(run, range(4)) for pair in pairs]
    mine = sorted(pair for pair in sent if pair[0] in invoices)
    assert mine == sorted((invoice, step) for invoice in invoices for step in (1, 2, 3))  # no step twice


def test_a_run_dated_in_the_future_is_refused(stack: Stack, finance: Api, project: dict[str, Any]) -> None:
    invoice = issued(finance, project, [line("D", "1", "70.00")], payment_terms_days=0)
    response = finance.post("/api/erp/reminder-runs", json={"as_of": (today() + timedelta(days=30)).isoformat(),
                                                             "invoice_id": invoice["id"]})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "as_of"
    assert finance.ok("GET", "/api/erp/reminders", params={"invoice_id": invoice["id"]})["total"] == 0
    assert finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")["overdue"] is False
