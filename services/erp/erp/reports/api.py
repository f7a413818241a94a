"""What the other ERP packages use of the reports: the profitability figures (the department efficiency report
groups them) and the percent rule the reports round by."""

from erp.reports.service import percent, profitability

__all__ = ["percent", "profitability"]
