"""The deal_idle automation rules, evaluated over every open deal: by the scheduler every
CRM_AUTOMATION_INTERVAL_SECONDS (jobs.py) and on demand (POST /api/crm/automation-runs).

Its own package because it sits above both the rules engine and deals: the scan selects deals, while deals fire the
engine from below it (crm/automation/engine.py says why the engine is the lower one)."""
