"""What the packages above invoicing (documents, billing runs, reminders, expenses, banking) and the composition
root use of it.

Invoicing is the ERP's lower layer: it knows clients and projects, and nothing of what bills work onto invoices;
those packages release their work through `BILLED_WORK` (see `erp.invoices.billed_work`).
"""

from erp.invoices.billed_work import BILLED_WORK
from erp.invoices.models import (
    OPEN_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Payment,
    PaymentMethod,
)
from erp.invoices.rules import TaxedLine, line_taxes, tax_breakdown
from erp.invoices.schemas import InvoiceOut
from erp.invoices.service import (
    LineSpec,
    PayableInvoice,
    PaymentEffect,
    append_line,
    apply_payment,
    check_payment,
    credited_number,
    get_invoice,
    issue_invoice,
    locked_invoice,
    new_invoice,
    payment_effect,
    time_billed_on_project,
)

__all__ = [
    "BILLED_WORK",
    "OPEN_STATUSES",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceOut",
    "InvoiceStatus",
    "LineKind",
    "LineSpec",
    "PayableInvoice",
    "Payment",
    "PaymentEffect",
    "PaymentMethod",
    "TaxedLine",
    "append_line",
    "apply_payment",
    "check_payment",
    "credited_number",
    "get_invoice",
    "issue_invoice",
    "line_taxes",
    "locked_invoice",
    "new_invoice",
    "payment_effect",
    "tax_breakdown",
    "time_billed_on_project",
]
