"""CSV exports of invoices, payments, time entries and expenses, with names instead of ids."""
