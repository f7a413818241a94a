"""The one place the budgets learn of bookings (people planned on the project ahead), for the forecast at completion:
through the planning's public module (docs/decisions.md, 134 and 201)."""

from erp.planning.api import PROJECT_BOOKED_SQL

# The hours each person is booked on the project (`:project_id`) in the weeks starting on or after `:from_week`
# (the weeks not yet begun, and this one when it begins today): `person_id`, `hours`. A project's bookings count in
# full, tentative or confirmed (a deal's tentative ones are weighted only on the board, until the deal is won and
# staffed). A statement for the figures' statement to build on, not a call: the figures are one round trip.
REMAINING_BOOKED_SQL = PROJECT_BOOKED_SQL

__all__ = ["REMAINING_BOOKED_SQL"]
