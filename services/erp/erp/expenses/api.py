"""What the composition root uses of the expenses: giving billable expenses back when their invoice goes
(registered with `erp.invoices.api.BILLED_WORK`); and what the notifications ask: who decides an expense at which
level (`DECIDERS`); and the approval chain itself, which vendor bills go through too (`required_approval`,
`check_decision_level`, `check_not_own`)."""

from erp.expenses.models import ApprovalLevel, ExpenseStatus
from erp.expenses.service import (
    DECIDERS,
    check_decision_level,
    check_not_own,
    release_billed_expenses,
    required_approval,
)

__all__ = ["DECIDERS", "ApprovalLevel", "ExpenseStatus", "check_decision_level", "check_not_own",
           "release_billed_expenses", "required_approval"]
