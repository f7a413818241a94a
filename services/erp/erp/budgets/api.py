"""What the other ERP packages use of the budgets: the threshold check every writer of burn calls before it commits
(time entries, their approval, expenses' approval), and the alerts the notifications show a project's manager."""

from erp.budgets.models import BudgetAlert
from erp.budgets.service import check_thresholds

__all__ = ["BudgetAlert", "check_thresholds"]
