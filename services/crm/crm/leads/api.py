"""What the rest of the CRM uses of leads: looking a lead up and rescoring it (an activity logged on it), staging one
(CSV import), its input schema, and the ports activities answer (`count_lead_activities`, `add_lead_message_note`,
connected by crm.app)."""

from crm.leads.models import Lead
from crm.leads.repository import LeadRepository
from crm.leads.schemas import LeadIn
from crm.leads.service import add_lead, add_lead_message_note, count_lead_activities, rescore

__all__ = ["Lead", "LeadIn", "LeadRepository", "add_lead", "add_lead_message_note", "count_lead_activities", "rescore"]
