"""What the other ERP packages use of the planning: the hours booked on a project from a week on (a budget's
forecast at completion is its actuals plus these), as a statement to build on, so that the budget's figures are
read in one round trip (decision 201)."""

from erp.planning.repository import PROJECT_BOOKED_SQL

__all__ = ["PROJECT_BOOKED_SQL"]
