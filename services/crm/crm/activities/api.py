"""What the rest of the CRM uses of activities: the answers to the ports of the packages below (crm/ports.py),
connected by crm.app: the automation engine's `add_rule_note` and the leads package's `count_lead_activities` and
`add_lead_message_note`."""

from crm.activities.service import add_lead_message_note, add_rule_note, count_lead_activities

__all__ = ["add_lead_message_note", "add_rule_note", "count_lead_activities"]
