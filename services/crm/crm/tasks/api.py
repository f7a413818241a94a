"""What the rest of the CRM uses of tasks: the answer to the automation engine's port `add_rule_task`
(crm/ports.py), connected by crm.app, and the task a sequence's task step adds."""

from crm.tasks.service import add_rule_task, add_step_task

__all__ = ["add_rule_task", "add_step_task"]
