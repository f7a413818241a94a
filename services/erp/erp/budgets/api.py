"""What the other ERP packages use of the budgets: the threshold check every writer of burn calls before it commits
(time entries written, expenses approved)."""

from erp.budgets.service import check_thresholds

__all__ = ["check_thresholds"]
