"""What the ERP does with CRM and gateway events, by event type and version (each package's handlers do the work)."""

from erp.clients.handlers import on_company_changed, on_contact_changed
from erp.intake.handlers import ON_DEAL_WON
from erp.people.handlers import on_user_changed, on_user_deactivated
from throughline_messaging.consumer import Handler

HANDLERS: dict[tuple[str, int], Handler] = {
    ("deal.won", 1): ON_DEAL_WON,
    ("company.created", 1): on_company_changed,
    ("company.updated", 1): on_company_changed,
    ("contact.created", 1): on_contact_changed,
    ("contact.updated", 1): on_contact_changed,
    # The gateway's users become the people whose time and expenses are booked (erp.people).
    ("user.created", 1): on_user_changed,
    ("user.updated", 1): on_user_changed,
    ("user.deactivated", 1): on_user_deactivated,
}
CONSUMED_TOPICS = ["crm.deal.events", "crm.account.events", "gateway.user.events"]
