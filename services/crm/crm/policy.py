"""Who may do what in the CRM: one row per action, the roles that may do it (admin may do everything).

Every endpoint names its action through one of the typed dependencies below, as the type of its principal
parameter, so the check is part of the endpoint's signature and this table is the only place that says which
roles may call it. `GET /api/crm/policy` serves the table; docs/roles.md is generated from it.
"""

from enum import StrEnum
from typing import Annotated

from throughline_platform.auth import Principal
from throughline_platform.policy import EVERYONE_BUT_MEMBER, Policy, rule
from throughline_platform.roles import Role


class Action(StrEnum):
    READ = "crm.read"
    COMPANIES_WRITE = "crm.companies.write"
    CONTACTS_WRITE = "crm.contacts.write"
    LEADS_WRITE = "crm.leads.write"
    LEADS_CAPTURE = "crm.leads.capture"
    CAPTURE_KEYS_WRITE = "crm.capture_keys.write"
    ASSIGNMENT_RULES_WRITE = "crm.assignment_rules.write"
    DEALS_WRITE = "crm.deals.write"
    PIPELINES_WRITE = "crm.pipelines.write"
    ACTIVITIES_WRITE = "crm.activities.write"
    TASKS_WRITE = "crm.tasks.write"
    AUTOMATION_RULES_WRITE = "crm.automation_rules.write"
    AUTOMATION_RUN = "crm.automation.run"
    CSV_IMPORT = "crm.csv.import"
    CSV_EXPORT = "crm.csv.export"
    MAIL_SEND = "crm.mail.send"
    MAIL_TEMPLATES_WRITE = "crm.mail_templates.write"
    CONSENT_WRITE = "crm.consent.write"
    SEQUENCES_WRITE = "crm.sequences.write"
    SEQUENCES_ENROL = "crm.sequences.enrol"
    QUOTES_WRITE = "crm.quotes.write"


SALES = Role.SALES

# A member (staff) has no CRM action: the pipeline, deal amounts and the forecast are not their work, and they
# reach a client through the projects they work on, in the ERP (docs/decisions.md, 113).
POLICY = Policy("crm", {
    Action.READ: rule(*EVERYONE_BUT_MEMBER, summary="Read CRM records: companies, contacts, leads, deals, pipelines, "
                                                    "activities, tasks, timelines, reports, rules",
                      example="GET /api/crm/companies"),
    Action.COMPANIES_WRITE: rule(SALES, summary="Create, change and delete companies",
                                 example="POST /api/crm/companies"),
    Action.CONTACTS_WRITE: rule(SALES, summary="Create, change and delete contacts",
                                example="POST /api/crm/contacts"),
    Action.LEADS_WRITE: rule(SALES, summary="Create, change, delete and convert leads",
                             example="POST /api/crm/leads"),
    # Not a dependency: the capture endpoint also takes a configured X-API-Key without any token, and refuses
    # a token of another role with 401, not 403 (leads/capture.py). So no example for the role matrix either.
    Action.LEADS_CAPTURE: rule(SALES, summary="Post a lead from a website form (POST /api/crm/lead-capture)",
                               note="Or without a token: with a capture key (below), or an X-API-Key from "
                                    "CRM_LEAD_CAPTURE_KEYS."),
    Action.CAPTURE_KEYS_WRITE: rule(SALES, summary="Create, change and revoke lead capture keys (website forms)",
                                    example="DELETE /api/crm/capture-keys/{id}"),
    Action.ASSIGNMENT_RULES_WRITE: rule(SALES, summary="Add and remove lead assignment rules",
                                        example="DELETE /api/crm/assignment-rules/{id}"),
    Action.DEALS_WRITE: rule(SALES, summary="Create, change, move, win, lose and reopen deals",
                             example="POST /api/crm/deals/{id}/win"),
    Action.PIPELINES_WRITE: rule(SALES, summary="Create and change pipelines and their stages",
                                 example="PATCH /api/crm/pipelines/{id}"),
    Action.ACTIVITIES_WRITE: rule(SALES, summary="Log and delete calls, emails, meetings and notes",
                                  example="POST /api/crm/activities"),
    Action.TASKS_WRITE: rule(SALES, summary="Create, change, complete and reopen follow-up tasks",
                             example="POST /api/crm/tasks/{id}/complete"),
    Action.AUTOMATION_RULES_WRITE: rule(SALES, summary="Create, change and delete automation rules",
                                        example="PATCH /api/crm/automation-rules/{id}"),
    # No example: evaluating the time-based rules now acts on every idle deal.
    Action.AUTOMATION_RUN: rule(SALES, summary="Evaluate the time-based automation rules now "
                                               "(POST /api/crm/automation-runs)"),
    # No examples: their paths name an entity, not an id.
    Action.CSV_IMPORT: rule(SALES, summary="Import companies, contacts, leads or deals from CSV "
                                           "(POST /api/crm/import/{entity})"),
    Action.CSV_EXPORT: rule(*EVERYONE_BUT_MEMBER, summary="Export companies, contacts, leads or deals as CSV "
                                                          "(GET /api/crm/export/{entity})"),
    Action.MAIL_SEND: rule(SALES, summary="Send mail from a deal, contact or company page, and preview templates",
                           example="POST /api/crm/mails"),
    Action.MAIL_TEMPLATES_WRITE: rule(SALES, summary="Create, change and delete mail templates",
                                      example="PATCH /api/crm/mail-templates/{id}"),
    Action.CONSENT_WRITE: rule(SALES, summary="Record a contact's consent to sequence mail (given or withdrawn)",
                               example="PUT /api/crm/contacts/{id}/consent"),
    Action.SEQUENCES_WRITE: rule(SALES, summary="Create and change sequences and their steps",
                                 example="PATCH /api/crm/sequences/{id}"),
    Action.SEQUENCES_ENROL: rule(SALES, summary="Enrol contacts and leads in sequences, and stop enrolments",
                                 example="POST /api/crm/sequences/{id}/enrolments"),
    Action.QUOTES_WRITE: rule(SALES, summary="Create quote revisions on deals, change drafts, send them, and keep "
                                             "the catalogue of services and rate cards",
                              example="POST /api/crm/quotes/{id}/send"),
})

Reader = Annotated[Principal, POLICY.requires(Action.READ)]
CompanyWriter = Annotated[Principal, POLICY.requires(Action.COMPANIES_WRITE)]
ContactWriter = Annotated[Principal, POLICY.requires(Action.CONTACTS_WRITE)]
LeadWriter = Annotated[Principal, POLICY.requires(Action.LEADS_WRITE)]
CaptureKeyWriter = Annotated[Principal, POLICY.requires(Action.CAPTURE_KEYS_WRITE)]
AssignmentRuleWriter = Annotated[Principal, POLICY.requires(Action.ASSIGNMENT_RULES_WRITE)]
DealWriter = Annotated[Principal, POLICY.requires(Action.DEALS_WRITE)]
PipelineWriter = Annotated[Principal, POLICY.requires(Action.PIPELINES_WRITE)]
ActivityWriter = Annotated[Principal, POLICY.requires(Action.ACTIVITIES_WRITE)]
TaskWriter = Annotated[Principal, POLICY.requires(Action.TASKS_WRITE)]
AutomationRuleWriter = Annotated[Principal, POLICY.requires(Action.AUTOMATION_RULES_WRITE)]
AutomationRunner = Annotated[Principal, POLICY.requires(Action.AUTOMATION_RUN)]
CsvImporter = Annotated[Principal, POLICY.requires(Action.CSV_IMPORT)]
CsvExporter = Annotated[Principal, POLICY.requires(Action.CSV_EXPORT)]
MailComposer = Annotated[Principal, POLICY.requires(Action.MAIL_SEND)]
MailTemplateWriter = Annotated[Principal, POLICY.requires(Action.MAIL_TEMPLATES_WRITE)]
ConsentWriter = Annotated[Principal, POLICY.requires(Action.CONSENT_WRITE)]
SequenceWriter = Annotated[Principal, POLICY.requires(Action.SEQUENCES_WRITE)]
SequenceEnroller = Annotated[Principal, POLICY.requires(Action.SEQUENCES_ENROL)]
QuoteWriter = Annotated[Principal, POLICY.requires(Action.QUOTES_WRITE)]
