"""What the ERP does with CRM events, by event type and version (each package's handlers do the work)."""

from erp.clients.handlers import on_company_changed, on_contact_changed
from erp.intake.handlers import ON_DEAL_WON
from throughline_messaging.consumer import Handler

HANDLERS: dict[tuple[str, int], Handler] = {
    ("deal.won", 1): ON_DEAL_WON,
    ("company.created", 1): on_company_changed,
    ("company.updated", 1): on_company_changed,
    ("contact.created", 1): on_contact_changed,
    ("contact.updated", 1): on_contact_changed,
}
CONSUMED_TOPICS = ["crm.deal.events", "crm.account.events"]
