"""What the other ERP packages use of accounts payable: the bill and payment tables and statuses (the forecast
reads open bills; the ledger posts approved bills and their payments; banking links a debit to a bill payment,
booked under `BILL_PAYMENT`)."""

from erp.payables.models import APPROVED_STATUSES, PAYABLE, Bill, BillPayment, BillStatus, Vendor
from erp.payables.rules import BILL_PAYMENT

__all__ = ["APPROVED_STATUSES", "BILL_PAYMENT", "PAYABLE", "Bill", "BillPayment", "BillStatus", "Vendor"]
