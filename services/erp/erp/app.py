"""The ERP process: which routers, which handlers, which background jobs, and how the packages are wired."""

from fastapi import APIRouter, FastAPI

from erp.billing.api import release_schedule_item
from erp.billing.jobs import billing_run_job
from erp.budgets.api import check_thresholds
from erp.db import idempotency, inbox, outbox
from erp.documents.jobs import document_render_job
from erp.expenses.api import release_billed_expenses
from erp.handlers import CONSUMED_TOPICS, HANDLERS
from erp.invoices.api import BILLED_WORK
from erp.mail_jobs import mail_sender_job
from erp.policy import POLICY
from erp.projects.api import BUDGET_CHECKS
from erp.reminders.jobs import reminder_run_job
from erp.settings import get_settings
from erp.time_entries.api import release_time_entries
from throughline_messaging.app import event_driven_service_app
from throughline_platform.policy import policy_router


def api_routers() -> list[APIRouter]:
    """Imported only by a process that plays the api role: a worker does without the routers and what only
    they use (a faster start and a smaller process)."""
    from erp.banking.router import accounts_router as bank_accounts_router
    from erp.banking.router import lines_router as bank_lines_router
    from erp.banking.router import mappings_router as bank_csv_mappings_router
    from erp.banking.router import statements_router as bank_statements_router
    from erp.billing.router import router as billing_router
    from erp.billing.router import schedules_router as billing_schedules_router
    from erp.budgets.router import efficiency_router
    from erp.budgets.router import router as budgets_router
    from erp.clients.router import router as clients_router
    from erp.company.router import router as company_router
    from erp.cost_centers.router import router as cost_centers_router
    from erp.documents.router import router as documents_router
    from erp.expenses.router import categories_router as expense_categories_router
    from erp.expenses.router import router as expenses_router
    from erp.exports.router import router as exports_router
    from erp.fx.router import router as exchange_rates_router
    from erp.invoices.router import router as invoices_router
    from erp.ledger.router import accounts_router, journal_router, periods_router, statements_router
    from erp.ledger.router import exports_router as journal_exports_router
    from erp.mailing.router import public_router as public_mail_router
    from erp.mailing.router import router as mailing_router
    from erp.notifications.router import router as notifications_router
    from erp.payables.router import aging_router as ap_aging_router
    from erp.payables.router import bills_router, vendors_router
    from erp.people.router import router as people_router
    from erp.pipeline.router import router as pipeline_router
    from erp.planning.router import router as planning_router
    from erp.projects.router import router as projects_router
    from erp.rates.router import router as rates_router
    from erp.reminders.router import router as reminders_router
    from erp.reports.router import router as reports_router
    from erp.scenarios.router import recurring_router as recurring_items_router
    from erp.scenarios.router import router as cash_scenarios_router
    from erp.search.router import router as search_router
    from erp.taxes.router import router as taxes_router
    from erp.time_entries.router import router as time_entries_router
    from erp.timesheets.router import router as timesheets_router

    return [clients_router, projects_router, billing_schedules_router, cost_centers_router, expenses_router,
            expense_categories_router, rates_router, reports_router, exports_router, notifications_router,
            # people (docs/erp-delivery.md)
            people_router,
            # billing (docs/erp-billing.md)
            invoices_router, billing_router, budgets_router, efficiency_router, time_entries_router, reminders_router,
            # timesheets (docs/erp-delivery.md)
            timesheets_router,
            # documents (docs/erp-invoicing-out.md)
            company_router, taxes_router, documents_router,
            # bank reconciliation (docs/erp-invoicing-out.md)
            bank_statements_router, bank_lines_router, bank_csv_mappings_router, bank_accounts_router,
            search_router,
            # resource planning (docs/erp-delivery.md)
            pipeline_router, planning_router,
            # invoices by mail, and the client's page (docs/erp-invoicing-out.md)
            mailing_router, public_mail_router,
            # payables, exchange rates and cash-flow scenarios (docs/erp-ledger.md)
            vendors_router, bills_router, ap_aging_router, exchange_rates_router, recurring_items_router,
            cash_scenarios_router,
            # the books (docs/erp-ledger.md)
            accounts_router, journal_router, periods_router, statements_router, journal_exports_router,
            policy_router(POLICY)]


def wire_billed_work() -> None:
    """What a voided invoice or deleted draft gives back, in its transaction: the packages that bill work onto
    invoices tell invoicing how (invoicing is below them and does not import them; see
    `erp.invoices.billed_work`)."""
    BILLED_WORK.register(release_schedule_item)  # its schedule item is pending again
    BILLED_WORK.register(release_time_entries)  # its time entries are unbilled again
    BILLED_WORK.register(release_billed_expenses)  # its billable expenses are unbilled again


def wire_budget_checks() -> None:
    """A budget changed through the project checks the budgets' thresholds in its transaction (the projects package
    is below the budgets and does not import them; see `erp.projects.budget_checks`)."""
    BUDGET_CHECKS.register(check_thresholds)


def create_app(roles: frozenset[str]) -> FastAPI:
    wire_billed_work()  # every process (api, consumer, scheduler) runs units of work that may void or delete
    wire_budget_checks()
    return event_driven_service_app(
        service="erp", title="Throughline ERP", settings=get_settings(), roles=roles, outbox=outbox, inbox=inbox,
        routers=api_routers, consumed_topics=CONSUMED_TOPICS, handlers=HANDLERS,
        scheduled_jobs=[billing_run_job, reminder_run_job, document_render_job, mail_sender_job],
        idempotency=idempotency,
        # A reminder run mails, from a unit of work of its own, the reminders it committed: its key is claimed first.
        commits_before_answering=frozenset({"/api/erp/reminder-runs"}),
    )
