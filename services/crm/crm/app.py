"""The CRM process: which routers, which handlers, which background jobs, and which package answers the questions
a lower package asks a higher one (crm/ports.py)."""

from fastapi import APIRouter, FastAPI

from crm.activities import api as activities_api
from crm.automation import api as automation_api
from crm.companies import api as companies_api
from crm.db import idempotency, inbox, outbox
from crm.deals import api as deals_api
from crm.idle_deals.jobs import automation_job
from crm.leads import api as leads_api
from crm.mail import api as mail_api
from crm.mail.jobs import mail_sender_job
from crm.pipelines import api as pipelines_api
from crm.policy import POLICY
from crm.sequences import api as sequences_api
from crm.sequences.jobs import sequence_job
from crm.settings import get_settings
from crm.tasks import api as tasks_api
from crm.timeline.handlers import CONSUMED_TOPICS, HANDLERS
from throughline_messaging.app import event_driven_service_app
from throughline_platform.policy import policy_router


def api_routers() -> list[APIRouter]:
    """Imported only by a process that plays the api role: a worker does without the routers and what only
    they use (a faster start and a smaller process)."""
    from crm.activities.router import router as activities_router
    from crm.automation.router import router as automation_router
    from crm.companies.router import contacts_router
    from crm.companies.router import router as companies_router
    from crm.csvio.router import router as csv_router
    from crm.deals.router import router as deals_router
    from crm.idle_deals.router import router as automation_runs_router
    from crm.leads.router import capture_router, keys_router, rules_router
    from crm.leads.router import router as leads_router
    from crm.mail.router import public_router as public_mail_router
    from crm.mail.router import router as mail_router
    from crm.notifications.router import router as notifications_router
    from crm.pipelines.router import router as pipelines_router
    from crm.quotes.router import public_router as public_quotes_router
    from crm.quotes.router import router as quotes_router
    from crm.reports.router import router as reports_router
    from crm.search.router import router as search_router
    from crm.sequences.router import router as sequences_router
    from crm.tasks.router import router as tasks_router
    from crm.timeline.router import router as timeline_router
    from crm.timeline.router import timelines_router

    return [companies_router, contacts_router, leads_router, capture_router, keys_router, rules_router,
            pipelines_router, deals_router, activities_router, tasks_router, reports_router, automation_router,
            automation_runs_router, csv_router, timeline_router, timelines_router, mail_router, public_mail_router,
            sequences_router, quotes_router, public_quotes_router, search_router, notifications_router,
            policy_router(POLICY)]


def connect_ports() -> None:
    """Connect each port a package declares to the higher package that answers it (crm/ports.py says why)."""
    companies_api.company_has_open_deals.connect(deals_api.company_has_open_deals)
    pipelines_api.open_deals_in_stage.connect(deals_api.open_deals_in_stage)
    leads_api.count_lead_activities.connect(activities_api.count_lead_activities)
    leads_api.add_lead_message_note.connect(activities_api.add_lead_message_note)
    automation_api.add_rule_task.connect(tasks_api.add_rule_task)
    automation_api.add_rule_note.connect(activities_api.add_rule_note)
    automation_api.enrol_in_sequence.connect(sequences_api.enrol_from_rule)
    automation_api.sequence_exists.connect(sequences_api.sequence_exists)
    mail_api.stop_sequences.connect(sequences_api.stop_enrolments)


def create_app(roles: frozenset[str]) -> FastAPI:
    connect_ports()
    return event_driven_service_app(
        service="crm", title="Throughline CRM", settings=get_settings(), roles=roles, outbox=outbox, inbox=inbox,
        routers=api_routers, consumed_topics=CONSUMED_TOPICS, handlers=HANDLERS,
        scheduled_jobs=[automation_job, mail_sender_job, sequence_job], idempotency=idempotency,
    )
