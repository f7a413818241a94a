"""What the other ERP packages use of accounts payable: the bill and payment tables and statuses (the forecast
reads open bills; the ledger posts approved bills and their payments)."""

from erp.payables.models import APPROVED_STATUSES, PAYABLE, Bill, BillPayment, BillStatus, Vendor

__all__ = ["APPROVED_STATUSES", "PAYABLE", "Bill", "BillPayment", "BillStatus", "Vendor"]
