"""What needs the caller in the ERP now: expenses they may approve, overdue invoices of their clients (the bell)."""
