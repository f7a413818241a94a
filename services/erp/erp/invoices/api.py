"""What the packages above invoicing (documents, billing runs, reminders, expenses) and the composition root use of
it.

Invoicing is the ERP's lower layer: it knows clients and projects, and nothing of what bills work onto invoices;
those packages release their work through `BILLED_WORK` (see `erp.invoices.billed_work`).
"""

from erp.invoices.billed_work import BILLED_WORK
from erp.invoices.models import OPEN_STATUSES, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, LineKind
from erp.invoices.rules import TaxedLine, tax_breakdown
from erp.invoices.schemas import InvoiceOut
from erp.invoices.service import (
    LineSpec,
    append_line,
    credited_number,
    get_invoice,
    issue_invoice,
    locked_invoice,
    new_invoice,
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
    "TaxedLine",
    "append_line",
    "credited_number",
    "get_invoice",
    "issue_invoice",
    "locked_invoice",
    "new_invoice",
    "tax_breakdown",
    "time_billed_on_project",
]
