"""Helpers for the planning tests: a bookable person (a gateway user with a weekly capacity), the board's row of
one person, the events a booking recorded."""

import json
import uuid
from typing import Any

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, sql
from tests.support import Api, person_of

WEEK = "2027-03-01"  # a Monday
NEXT_WEEK = "2027-03-08"


def bookable_person(admin: Api, boss: RoleApi, hours: str = "40") -> str:
    """A new gateway user, with a weekly capacity of `hours` from January 2026 on: someone the planning may book."""
    tag = uuid.uuid4().hex[:8]
    user = admin.ok("POST", "/api/auth/users", 201,
                    json={"email": f"planned-{tag}@example.com", "full_name": f"Planned {tag}", "role": "viewer"})
    boss.ok("POST", "/api/erp/capacities", 201,
            json={"user_id": user["id"], "hours_per_week": hours, "effective_from": "2026-01-05"})
    person_of(admin, user["id"])  # booked once the ERP knows them (the gateway's user.created made the person)
    return str(user["id"])


def board_row(api: Any, person_id: str, from_week: str = WEEK, weeks: int = 2) -> dict[str, Any]:
    board = api.ok("GET", "/api/erp/planning", params={"from_week": from_week, "weeks": weeks})
    assert board["from_week"] == from_week and len(board["weeks"]) == weeks and board["weeks"][0] == from_week
    rows = [p for p in board["people"] if p["person_id"] == person_id]
    assert len(rows) == 1, f"{person_id} appears {len(rows)} times on the board"
    return rows[0]  # type: ignore[no-any-return]


def booking_events(stack: Stack, booking_id: str) -> list[dict[str, Any]]:
    """The booking.changed events staged in the ERP's outbox for a booking, in order, as their `data`."""
    rows = sql(stack, "SELECT convert_from(value, 'UTF8') FROM outbox "
                      f"WHERE message_key = '{booking_id}' AND event_type = 'booking.changed' ORDER BY id")
    return [json.loads(row[0])["data"] for row in rows]


def booking_count(stack: Stack, person_id: str) -> int:
    return int(sql(stack, f"SELECT count(*) FROM bookings WHERE person_id = '{person_id}'")[0][0])
