"""What the rest of the CRM uses of sequences: the answers to the ports of the packages below (crm/ports.py),
connected by crm.app: mail's `stop_sequences` (a reply, an unsubscribe, a bounce), the automation engine's
`enrol_in_sequence` and the automation rules' `sequence_exists`."""

from crm.sequences.service import enrol_from_rule, sequence_exists, stop_enrolments

__all__ = ["enrol_from_rule", "sequence_exists", "stop_enrolments"]
