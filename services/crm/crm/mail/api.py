"""What the rest of the CRM uses of mail: building and staging a mail (sequences), the template variables and
context, the templates, consent (sequences skip withdrawn addresses), senders' names, and the port sequences
answer (`stop_sequences`, connected by crm.app)."""

from crm.mail.context import VARIABLES, Owner, context
from crm.mail.models import EmailTemplate
from crm.mail.outgoing import Draft, Links, stage, unsubscribe_url
from crm.mail.repository import ConsentRepository, MailRepository, SenderRepository, TemplateRepository
from crm.mail.service import StopRequest, as_template, stop_sequences

__all__ = [
    "VARIABLES",
    "ConsentRepository",
    "Draft",
    "EmailTemplate",
    "Links",
    "MailRepository",
    "Owner",
    "SenderRepository",
    "StopRequest",
    "TemplateRepository",
    "as_template",
    "context",
    "stage",
    "stop_sequences",
    "unsubscribe_url",
]
