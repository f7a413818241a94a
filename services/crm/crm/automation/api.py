"""What the rest of the CRM uses of automation: the engine that deals and leads fire, the rule and firing tables
the idle-deal scan reads, and the ports crm.app connects to the tasks and activities packages."""

from crm.automation.engine import (
    CREATED_BY,
    Links,
    RuleEnrolment,
    RuleNote,
    RuleTask,
    Target,
    add_rule_note,
    add_rule_task,
    enrol_in_sequence,
    fire,
    fire_all,
    on_lead_created,
    on_stage_entered,
    rules_for,
    win_rules,
    win_rules_exist,
)
from crm.automation.models import AutomationFiring, Trigger
from crm.automation.service import sequence_exists

__all__ = [
    "CREATED_BY",
    "AutomationFiring",
    "Links",
    "RuleEnrolment",
    "RuleNote",
    "RuleTask",
    "Target",
    "Trigger",
    "add_rule_note",
    "add_rule_task",
    "enrol_in_sequence",
    "fire",
    "fire_all",
    "on_lead_created",
    "on_stage_entered",
    "rules_for",
    "sequence_exists",
    "win_rules",
    "win_rules_exist",
]
