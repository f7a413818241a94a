"""What the other ERP packages use of billing: the schedule tables and planning a schedule from a won deal's terms
(the won-deal intake, and the cash forecast for open deals), a day some intervals after another (`add_interval`),
and giving a schedule item back when its invoice goes (the composition root registers `release_schedule_item` with
`erp.invoices.api.BILLED_WORK`)."""

from erp.billing.models import BillingSchedule, ScheduleItem, ScheduleItemStatus
from erp.billing.schedule import PlannedSchedule, Terms, add_interval, plan_schedule
from erp.billing.service import add_schedule, release_schedule_item, schedule_total

__all__ = ["BillingSchedule", "PlannedSchedule", "ScheduleItem", "ScheduleItemStatus", "Terms", "add_interval",
           "add_schedule", "plan_schedule", "release_schedule_item", "schedule_total"]
