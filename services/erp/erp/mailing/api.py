"""What the packages above mailing (reminders) and the composition root use of it: the templates, staging a mail
of an invoice, recording the sender's outcomes."""

from erp.mailing.models import MailKind, MailState
from erp.mailing.service import (
    CAUSE_KIND,
    ReminderOutcome,
    Templates,
    default_recipients,
    record_outcomes,
    reminder_context,
    stage_invoice_mail,
    templates,
)

__all__ = ["CAUSE_KIND", "MailKind", "MailState", "ReminderOutcome", "Templates", "default_recipients",
           "record_outcomes", "reminder_context", "stage_invoice_mail", "templates"]
