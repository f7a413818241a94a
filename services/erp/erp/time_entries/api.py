"""What the other ERP packages use of the time entries: the entries billing runs select and bill, and giving them
back when their invoice goes (the composition root registers `release_time_entries` with
`erp.invoices.api.BILLED_WORK`)."""

from erp.time_entries.models import TimeEntry, TimeEntryStatus
from erp.time_entries.service import release_time_entries

__all__ = ["TimeEntry", "TimeEntryStatus", "release_time_entries"]
