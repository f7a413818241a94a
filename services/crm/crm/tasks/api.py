"""What the rest of the CRM uses of tasks: the answer to the automation engine's port `add_rule_task`
(crm/ports.py), connected by crm.app."""

from crm.tasks.service import add_rule_task

__all__ = ["add_rule_task"]
