"""Bookings (person x project or open deal x week): written by project managers and admins, each change with its
booking.changed event; beyond capacity allowed and flagged; every refusal a precise 4xx with nothing written; the
planning board's capacity, booked (tentative bookings on deals weighted by probability), actual and over-allocation;
a won deal's project staffed from the deal's bookings."""

from decimal import Decimal
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, as_role, new_client, new_project
from tests.erp_planning.helpers import (
    NEXT_WEEK,
    WEEK,
    board_row,
    bookable_person,
    booking_count,
    booking_events,
)
from tests.erp_planning.test_pipeline import open_deal
from tests.support import Api, wait_for


@pytest.fixture(scope="module")
def pm(stack: Stack) -> RoleApi:
    return as_role(stack, "project_manager")


@pytest.fixture(scope="module")
def project(boss: RoleApi, stack: Stack) -> dict[str, Any]:
    return new_project(boss, new_client(boss, stack)["id"])


def test_booking_beyond_capacity_is_allowed_and_flagged(stack: Stack, admin: Api, boss: RoleApi, pm: RoleApi,
                                                        project: dict[str, Any]) -> None:
    person = bookable_person(admin, boss, hours="32")
    first = pm.ok("POST", "/api/erp/bookings", 201, json={
        "person_id": person, "project_id": project["id"], "week": WEEK, "hours": "24", "status": "confirmed"})
    assert (first["over_capacity"], first["week_booked"], first["week_capacity"]) == (False, "24.00", "32.00")
    second = pm.ok("POST", "/api/erp/bookings", 201, json={
        "person_id": person, "project_id": project["id"], "week": WEEK, "hours": "16", "note": "Launch week"})
    assert (second["status"], second["over_capacity"], second["week_booked"]) == ("tentative", True, "40.00")

    [event] = booking_events(stack, second["id"])
    assert (event["change"], event["person_id"], event["week"], event["hours"], event["over_capacity"]) == \
           ("created", person, WEEK, "16.00", True)

    row = board_row(pm, person)
    assert row["capacity"] == ["32.00", "32.00"]
    assert (row["confirmed"][0], row["tentative"][0], row["booked"][0]) == ("24.00", "16.00", "40.00")
    assert row["over_allocated"] == [True, False]

    # Back within capacity: a change, then a removal, each recorded with the week's new state.
    changed = pm.ok("PATCH", f"/api/erp/bookings/{second['id']}", json={"hours": "8"})
    assert (changed["hours"], changed["over_capacity"], changed["week_booked"]) == ("8.00", False, "32.00")
    assert pm.delete(f"/api/erp/bookings/{second['id']}").status_code == 204
    assert [(e["change"], e["hours"], e["over_capacity"]) for e in booking_events(stack, second["id"])] == \
           [("created", "16.00", True), ("updated", "8.00", False), ("deleted", "8.00", False)]
    assert board_row(pm, person)["booked"][0] == "24.00"
    assert pm.get(f"/api/erp/bookings/{second['id']}").status_code == 404


def test_actual_hours_come_from_time_entries(admin: Api, boss: RoleApi, pm: RoleApi,
                                             project: dict[str, Any]) -> None:
    person = bookable_person(admin, boss)
    for day, hours in (("2027-03-01", "6"), ("2027-03-03", "7.5"), ("2027-03-09", "4")):
        pm.ok("POST", "/api/erp/time-entries", 201,
              json={"project_id": project["id"], "person_id": person, "work_date": day, "hours": hours})
    row = board_row(pm, person)
    assert row["actual"] == ["13.50", "4.00"]
    assert row["booked"] == ["0.00", "0.00"]


def test_refusals_write_nothing(stack: Stack, admin: Api, boss: RoleApi, pm: RoleApi,
                                project: dict[str, Any]) -> None:
    person = bookable_person(admin, boss)
    good = {"person_id": person, "project_id": project["id"], "week": WEEK, "hours": "8"}
    closed = new_project(boss, project["client_id"])
    boss.ok("PATCH", f"/api/erp/projects/{closed['id']}", json={"status": "cancelled"})
    refusals: list[tuple[dict[str, Any], int, str]] = [
        ({**good, "person_id": "not-a-user"}, 422, "not-a-user"),
        ({**good, "week": "2027-03-03"}, 422, "Monday"),
        ({**good, "hours": "0"}, 422, "hours"),
        ({**good, "hours": "168.5"}, 422, "hours"),
        ({**good, "deal_id": "3d36f1f7-a1bb-4faf-8593-1ec7e915657e"}, 422, "either"),
        ({k: v for k, v in good.items() if k != "project_id"}, 422, "either"),
        ({**{k: v for k, v in good.items() if k != "project_id"}, "deal_id": "3d36f1f7-a1bb-4faf-8593-1ec7e915657e"},
         422, "open deal"),
        ({**good, "project_id": "3d36f1f7-a1bb-4faf-8593-1ec7e915657e"}, 422, "does not exist"),
        ({**good, "project_id": closed["id"]}, 409, "cancelled"),
        ({**good, "status": "pencilled"}, 422, "status"),
    ]
    for body, status, words in refusals:
        response = pm.post("/api/erp/bookings", json=body)
        assert response.status_code == status, (body, response.text)
        assert words in response.text, (body, response.text)
    for role in ("viewer", "finance", "sales"):
        assert as_role(stack, role).post("/api/erp/bookings", json=good).status_code == 403, role
    assert booking_count(stack, person) == 0

    booking = pm.ok("POST", "/api/erp/bookings", 201, json=good)
    for patch, status in (({"week": "2027-03-02"}, 422), ({"hours": None}, 422), ({"person_id": "x"}, 422)):
        assert pm.patch(f"/api/erp/bookings/{booking['id']}", json=patch).status_code == status, patch
    assert as_role(stack, "viewer").delete(f"/api/erp/bookings/{booking['id']}").status_code == 403
    assert pm.get(f"/api/erp/bookings/{booking['id']}").json()["hours"] == "8.00"
    assert len(booking_events(stack, booking["id"])) == 1
    assert pm.get("/api/erp/planning", params={"from_week": "2027-03-02"}).status_code == 422
    assert pm.get("/api/erp/planning", params={"from_week": WEEK, "weeks": 53}).status_code == 422


def test_deal_bookings_are_weighted_then_staff_the_won_project(stack: Stack, admin: Api, boss: RoleApi,
                                                               pm: RoleApi) -> None:
    person = bookable_person(admin, boss)
    company = boss.new_company()
    deal = boss.new_deal(company["id"], amount="20000.00")
    seen = wait_for(lambda: open_deal(pm, deal["id"]), 15, "the deal in the ERP")
    probability = Decimal(seen["probability"])
    assert 0 < probability < 100, "the default pipeline's first stage weighs a booking by less than all"

    base = {"person_id": person, "deal_id": deal["id"], "hours": "20"}
    tentative = [pm.ok("POST", "/api/erp/bookings", 201, json={**base, "week": week}) for week in (WEEK, NEXT_WEEK)]
    confirmed = pm.post("/api/erp/bookings", json={**base, "week": WEEK, "status": "confirmed"})
    assert confirmed.status_code == 422 and "tentative" in confirmed.text
    weighted = (Decimal(20) * probability / 100).quantize(Decimal("0.01"))
    row = board_row(pm, person)
    assert [Decimal(b) for b in row["booked"]] == [weighted, weighted]
    assert (row["tentative"], row["confirmed"]) == (["20.00", "20.00"], ["0.00", "0.00"])

    boss.ok("POST", f"/api/crm/deals/{deal['id']}/win",
            json={"billing": {"type": "fixed", "installments": 1, "interval": "month", "start_date": "2027-03-01"}})
    project = boss.project_of(deal["id"])
    wait_for(lambda: open_deal(pm, deal["id"]) is None, 15, "the deal to leave the open deals")
    # Won and not yet staffed: its bookings count in full; a new booking goes on the project, not the deal.
    assert board_row(pm, person)["booked"] == ["20.00", "20.00"]
    refused = pm.post("/api/erp/bookings", json={**base, "week": WEEK})
    assert refused.status_code == 409 and "won" in refused.text

    staffed = pm.ok("POST", f"/api/erp/projects/{project['id']}/staff-from-deal", json={"confirm": True})
    assert sorted(b["id"] for b in staffed) == sorted(b["id"] for b in tentative)
    assert {(b["project_id"], b["deal_id"], b["status"]) for b in staffed} == \
           {(project["id"], deal["id"], "confirmed")}
    row = board_row(pm, person)
    assert (row["confirmed"], row["tentative"]) == (["20.00", "20.00"], ["0.00", "0.00"])
    assert [e["change"] for e in booking_events(stack, tentative[0]["id"])] == ["created", "updated"]
    assert pm.ok("POST", f"/api/erp/projects/{project['id']}/staff-from-deal") == []  # twice: nothing more
    listed = pm.ok("GET", "/api/erp/bookings", params={"project_id": project["id"]})
    assert listed["total"] == 2

    hand_made = boss.ok("POST", "/api/erp/projects", 201, json={
        "name": "No deal", "client_id": project["client_id"], "budget_amount": "100.00", "currency": "EUR"})
    no_deal = pm.post(f"/api/erp/projects/{hand_made['id']}/staff-from-deal")
    assert no_deal.status_code == 422 and "not made from a deal" in no_deal.text
