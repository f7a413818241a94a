"""What the composition root uses of the expenses: giving billable expenses back when their invoice goes
(registered with `erp.invoices.api.BILLED_WORK`)."""

from erp.expenses.service import release_billed_expenses

__all__ = ["release_billed_expenses"]
