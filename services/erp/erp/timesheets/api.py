"""What the other ERP packages use of the timesheets: the ISO week names the timesheet endpoints take."""

from erp.timesheets.schemas import parse_week, week_name

__all__ = ["parse_week", "week_name"]
