"""What the composition root uses of reminders: recording what the mail sender made of reminder mails."""

from erp.reminders.service import record_delivery

__all__ = ["record_delivery"]
