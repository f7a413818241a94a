"""What the other ERP packages use of the time entries: the entries billing runs select and bill, giving them back
when their invoice goes (the composition root registers `release_time_entries` with `erp.invoices.api.BILLED_WORK`),
and, for the weekly timesheet, the week and the entry writes that obey its lock."""

from erp.time_entries.models import LOCKED_WEEKS, TimeEntry, TimeEntryStatus, TimesheetWeek, WeekStatus
from erp.time_entries.repository import TimeEntryRepository
from erp.time_entries.schemas import TimeEntryOut
from erp.time_entries.service import (
    CLOSED,
    CellChange,
    NewEntry,
    add_entry,
    check_may_log_for,
    open_project,
    open_projects,
    release_time_entries,
    rewrite_week,
)

__all__ = ["CLOSED", "LOCKED_WEEKS", "CellChange", "NewEntry", "TimeEntry", "TimeEntryOut", "TimeEntryRepository",
           "TimeEntryStatus", "TimesheetWeek", "WeekStatus", "add_entry", "check_may_log_for", "open_project",
           "open_projects", "release_time_entries", "rewrite_week"]
