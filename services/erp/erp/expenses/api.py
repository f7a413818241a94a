"""What the composition root uses of the expenses: giving billable expenses back when their invoice goes
(registered with `erp.invoices.api.BILLED_WORK`); and what the notifications ask: who decides an expense at which
level (`DECIDERS`)."""

from erp.expenses.models import ApprovalLevel, ExpenseStatus
from erp.expenses.service import DECIDERS, release_billed_expenses

__all__ = ["DECIDERS", "ApprovalLevel", "ExpenseStatus", "release_billed_expenses"]
