"""Who may do what in the ERP: one table, action -> roles, that the routers use and docs/roles.md is made from.

A router names the action of an endpoint with one of the typed dependencies below as its principal parameter
(`principal: InvoiceWriter`), so the check is part of the endpoint's signature and happens before the endpoint
runs. Rules that also depend on the data (who may approve which expense, who may submit one) are checked by the
expenses service, which asks this table for the role part with `POLICY.allows(role, action)`; their `note` says
the rest. `admin` may do every action.

A `member` (staff) is placed action by action (docs/decisions.md, 113-115): they log and change their own time and
expenses and read their own work (`erp.work.read`: the projects they work on, their own entries and expenses), the
people directory and their own rates; never `erp.read` (invoices, reports, other people's cost).
"""

from enum import StrEnum
from typing import Annotated

from throughline_platform.auth import Principal
from throughline_platform.policy import EVERYONE, EVERYONE_BUT_MEMBER, Policy, rule
from throughline_platform.roles import Role

FINANCE = Role.FINANCE
PROJECT_MANAGER = Role.PROJECT_MANAGER
MEMBER = Role.MEMBER
SALES = Role.SALES
VIEWER = Role.VIEWER


class Action(StrEnum):
    READ = "erp.read"
    WORK_READ = "erp.work.read"
    PEOPLE_READ = "erp.people.read"
    PEOPLE_WRITE = "erp.people.write"
    COST_RATES_READ = "erp.cost_rates.read"
    TIME_ENTRIES_LOG = "erp.time_entries.log"
    PROJECTS_WRITE = "erp.projects.write"
    TIME_ENTRIES_WRITE = "erp.time_entries.write"
    TIMESHEETS_APPROVE = "erp.timesheets.approve"
    BILL_RATES_WRITE = "erp.bill_rates.write"
    CAPACITIES_WRITE = "erp.capacities.write"
    SCHEDULE_ITEMS_REACH = "erp.schedule_items.reach"
    INVOICES_WRITE = "erp.invoices.write"
    PAYMENTS_WRITE = "erp.payments.write"
    CREDIT_NOTES_WRITE = "erp.credit_notes.write"
    BILLING_RUNS_WRITE = "erp.billing_runs.write"
    REMINDER_RUNS_WRITE = "erp.reminder_runs.write"
    COST_CENTERS_WRITE = "erp.cost_centers.write"
    COST_RATES_WRITE = "erp.cost_rates.write"
    CLIENTS_BILLING = "erp.clients.billing"
    EXPENSES_CREATE = "erp.expenses.create"
    EXPENSES_SUBMIT = "erp.expenses.submit"
    EXPENSES_APPROVE = "erp.expenses.approve"
    EXPENSES_APPROVE_ABOVE_LIMIT = "erp.expenses.approve_above_limit"
    EXPENSES_REIMBURSE = "erp.expenses.reimburse"
    EXPENSES_BILL = "erp.expenses.bill"
    EXPENSE_CATEGORIES_WRITE = "erp.expense_categories.write"
    COMPANY_WRITE = "erp.company.write"
    TAX_RATES_WRITE = "erp.tax_rates.write"
    BANK_STATEMENTS_IMPORT = "erp.bank_statements.import"
    BANK_LINES_RECONCILE = "erp.bank_lines.reconcile"
    BANK_CSV_MAPPINGS_WRITE = "erp.bank_csv_mappings.write"
    BANK_ACCOUNTS_WRITE = "erp.bank_accounts.write"
    INVOICES_SEND = "erp.invoices.send"
    MAIL_TEMPLATES_WRITE = "erp.mail_templates.write"
    BUDGETS_WRITE = "erp.budgets.write"
    EFFICIENCY_READ = "erp.reports.efficiency"
    BOOKINGS_WRITE = "erp.bookings.write"
    VENDORS_WRITE = "erp.vendors.write"
    BILLS_WRITE = "erp.bills.write"
    BILLS_PAY = "erp.bills.pay"
    EXCHANGE_RATES_WRITE = "erp.exchange_rates.write"
    RECURRING_ITEMS_WRITE = "erp.recurring_items.write"
    CASH_SCENARIOS_WRITE = "erp.cash_scenarios.write"
    LEDGER_READ = "erp.ledger.read"
    ACCOUNTS_WRITE = "erp.accounts.write"
    JOURNAL_ENTRIES_WRITE = "erp.journal_entries.write"
    PERIODS_CLOSE = "erp.periods.close"
    PERIODS_REOPEN = "erp.periods.reopen"


POLICY = Policy("erp", {
    Action.READ: rule(
        *EVERYONE_BUT_MEMBER, summary="Read ERP data: clients, projects, invoices, bank statements, expenses, time, "
                                      "bill rates, capacities, reports",
        example="GET /api/erp/invoices"),
    Action.WORK_READ: rule(
        *EVERYONE, summary="Read projects, time entries and expenses; cost centers, expense categories and tax "
                           "rates (to file one's expenses)",
        example="GET /api/erp/projects",
        note="With erp.read all of them; without it (a member) only their own: the projects they have logged time "
             "on, their own time entries and expenses."),
    Action.PEOPLE_READ: rule(
        *EVERYONE, summary="Read the people directory: name, department, cost center, weekly capacity, list rate",
        example="GET /api/erp/people",
        note="A person's cost rate only with erp.cost_rates.read, or their own."),
    Action.PEOPLE_WRITE: rule(
        FINANCE, summary="Set a person's department, cost center, weekly capacity, cost and list rates (dated)",
        example="PATCH /api/erp/people/{id}"),
    Action.COST_RATES_READ: rule(
        FINANCE, summary="Read people's cost rates (what an hour of theirs costs)",
        example="GET /api/erp/cost-rates"),
    Action.TIME_ENTRIES_LOG: rule(
        PROJECT_MANAGER, FINANCE, MEMBER,
        summary="Log one's own time: the weekly timesheet, the timer, corrections; change and delete one's own "
                "unbilled entries; submit one's week",
        example="POST /api/erp/time-entries",
        note="For another person erp.time_entries.write is needed as well; the person must exist and be active. "
             "Nothing changes in a submitted or approved week."),
    Action.PROJECTS_WRITE: rule(
        PROJECT_MANAGER, FINANCE, summary="Create projects by hand and change their status, budget or owner",
        example="PATCH /api/erp/projects/{id}"),
    Action.TIME_ENTRIES_WRITE: rule(
        PROJECT_MANAGER, FINANCE, summary="Book, change and delete anyone's unbilled time entries; approve them",
        example="POST /api/erp/time-entries/{id}/approve", note="Nobody approves their own time, admins included."),
    Action.TIMESHEETS_APPROVE: rule(
        PROJECT_MANAGER, summary="Approve a submitted week (its entries become approved, the week is locked) or "
                                 "return it with a comment",
        example="POST /api/erp/timesheets/{person_id}/{week}/approve",
        note="Never one's own week, admins included."),
    Action.BILL_RATES_WRITE: rule(
        PROJECT_MANAGER, FINANCE, summary="Set and remove a project's bill rates",
        example="DELETE /api/erp/bill-rates/{id}"),
    Action.CAPACITIES_WRITE: rule(
        PROJECT_MANAGER, FINANCE, summary="Set and remove a person's weekly capacity",
        example="DELETE /api/erp/capacities/{id}"),
    Action.SCHEDULE_ITEMS_REACH: rule(
        PROJECT_MANAGER, FINANCE, summary="Mark a milestone of a billing schedule reached",
        example="POST /api/erp/schedule-items/{id}/reach"),
    Action.INVOICES_WRITE: rule(
        FINANCE, summary="Create, change, delete, issue and void invoices",
        example="POST /api/erp/invoices/{id}/issue"),
    Action.PAYMENTS_WRITE: rule(
        FINANCE, summary="Record a payment on an invoice", example="POST /api/erp/invoices/{id}/payments"),
    Action.CREDIT_NOTES_WRITE: rule(
        FINANCE, summary="Issue a credit note against an invoice", example="POST /api/erp/invoices/{id}/credit-note"),
    Action.BILLING_RUNS_WRITE: rule(
        FINANCE, summary="Run billing: invoice every due schedule item and approved billable time",
        example="POST /api/erp/billing-runs"),
    Action.REMINDER_RUNS_WRITE: rule(
        FINANCE, summary="Run dunning: send every reminder step that is due", example="POST /api/erp/reminder-runs"),
    Action.COST_CENTERS_WRITE: rule(
        FINANCE, summary="Create, rename and (de)activate cost centers", example="PATCH /api/erp/cost-centers/{id}"),
    Action.COST_RATES_WRITE: rule(
        FINANCE, summary="Set and remove a person's cost rates", example="DELETE /api/erp/cost-rates/{id}"),
    Action.CLIENTS_BILLING: rule(
        FINANCE, summary="Set a client's ERP-only billing fields", example="PATCH /api/erp/clients/{id}"),
    Action.EXPENSES_CREATE: rule(
        SALES, FINANCE, PROJECT_MANAGER, MEMBER, summary="Enter an expense (a draft of one's own)",
        example="POST /api/erp/expenses"),
    Action.EXPENSES_SUBMIT: rule(
        *EVERYONE, summary="Change, attach a receipt to, submit and delete (drafts only) an expense",
        note="Only the person who entered the expense (or an admin), and only while it is a draft or rejected."),
    Action.EXPENSES_APPROVE: rule(
        PROJECT_MANAGER, FINANCE,
        summary="Approve or reject a submitted expense or vendor bill up to the manager limit",
        note="Up to the limit ERP_EXPENSE_MANAGER_LIMITS sets for the expense's or bill's currency; above it, or in a "
             "currency without a limit, erp.expenses.approve_above_limit is needed. Nobody approves or rejects their "
             "own expense, nor a bill they submitted."),
    Action.EXPENSES_APPROVE_ABOVE_LIMIT: rule(
        FINANCE, summary="Approve or reject a submitted expense or vendor bill above the manager limit",
        note="Nobody approves or rejects their own expense, nor a bill they submitted."),
    Action.EXPENSES_REIMBURSE: rule(
        FINANCE, summary="Record that an approved expense was paid back",
        example="POST /api/erp/expenses/{id}/reimburse"),
    Action.EXPENSES_BILL: rule(
        FINANCE, summary="Put approved billable expenses on a draft invoice",
        example="POST /api/erp/invoices/{id}/expenses"),
    Action.EXPENSE_CATEGORIES_WRITE: rule(
        FINANCE, summary="Add expense categories, add and remove auto-categorisation rules",
        example="POST /api/erp/expense-categories"),
    Action.COMPANY_WRITE: rule(
        FINANCE, summary="Set the company profile (the seller on invoices: address, VAT ID, bank accounts, logo)",
        example="PUT /api/erp/settings/company"),
    Action.TAX_RATES_WRITE: rule(
        FINANCE, summary="Add, change, archive tax rates and choose the default one",
        example="POST /api/erp/tax-rates"),
    Action.BANK_STATEMENTS_IMPORT: rule(
        FINANCE, summary="Import bank statements (CAMT.053, MT940, CSV): matched credits record invoice payments",
        example="POST /api/erp/bank-statements"),
    Action.BANK_LINES_RECONCILE: rule(
        FINANCE, summary="Match a bank line to invoices by hand, link it to a payment recorded by hand (invoice or "
                         "bill), or set it aside booked against an account",
        example="POST /api/erp/bank-lines/{id}/ignore"),
    Action.BANK_ACCOUNTS_WRITE: rule(
        FINANCE, summary="Link a bank account (the statements' IBAN) to another ledger account",
        example="PUT /api/erp/bank-accounts/{id}"),
    Action.BANK_CSV_MAPPINGS_WRITE: rule(
        FINANCE, summary="Save, change and delete the column mappings of banks' CSV exports",
        example="POST /api/erp/bank-csv-mappings"),
    Action.INVOICES_SEND: rule(
        FINANCE, summary="Send an issued invoice to the client by mail, its PDF attached",
        example="POST /api/erp/invoices/{id}/send"),
    Action.MAIL_TEMPLATES_WRITE: rule(
        FINANCE, summary="Edit and preview the invoice and reminder mail templates",
        example="PUT /api/erp/mail-templates/{key}"),
    Action.BUDGETS_WRITE: rule(
        PROJECT_MANAGER, FINANCE, summary="Set a project's budget (hours, amount) and its alert thresholds",
        example="PUT /api/erp/projects/{id}/budget"),
    Action.EFFICIENCY_READ: rule(
        FINANCE, summary="Read the department efficiency report (revenue, direct cost and margin per department)",
        example="GET /api/erp/reports/department-efficiency"),
    Action.BOOKINGS_WRITE: rule(
        PROJECT_MANAGER, summary="Book people on projects and open deals by week; staff a won deal's project from "
                                 "its bookings",
        example="POST /api/erp/bookings"),
    Action.VENDORS_WRITE: rule(
        FINANCE, summary="Add, change and deactivate vendors (suppliers: VAT ID, IBAN, currency, payment terms)",
        example="POST /api/erp/vendors"),
    Action.BILLS_WRITE: rule(
        FINANCE, summary="Enter, change, submit and delete (drafts only) vendor bills",
        example="POST /api/erp/bills",
        note="Approving a bill is the expenses' approval chain (erp.expenses.approve up to the manager limit)."),
    Action.BILLS_PAY: rule(
        FINANCE, summary="Record a payment on an approved vendor bill", example="POST /api/erp/bills/{id}/payments"),
    Action.EXCHANGE_RATES_WRITE: rule(
        FINANCE, summary="Enter, import (CSV) and remove daily exchange rates", example="PUT /api/erp/exchange-rates"),
    Action.RECURRING_ITEMS_WRITE: rule(
        FINANCE, summary="Keep the recurring cash items of the forecast (payroll, rent) and its opening balance",
        example="POST /api/erp/recurring-items"),
    Action.CASH_SCENARIOS_WRITE: rule(
        FINANCE, summary="Save, change and delete cash-flow scenarios (what-ifs over the forecast)",
        example="POST /api/erp/cash-flow-scenarios"),
    Action.LEDGER_READ: rule(
        FINANCE, VIEWER, summary="Read the books: chart of accounts, journal, periods, trial balance, profit and loss, "
                                 "balance sheet, VAT report, and export the journal (CSV, DATEV)",
        example="GET /api/erp/reports/trial-balance",
        note="Not erp.read: the books show every figure of the company (salaries, margins, bank), which sales, "
             "project managers and members do not see; viewer is the read-only seat (an auditor, the accountant)."),
    Action.ACCOUNTS_WRITE: rule(
        FINANCE, summary="Add accounts to the chart, rename, renumber and (de)activate them",
        example="PATCH /api/erp/accounts/{id}"),
    Action.JOURNAL_ENTRIES_WRITE: rule(
        FINANCE, summary="Post a manual journal entry (an adjustment), recorded with its author",
        example="POST /api/erp/journal-entries"),
    Action.PERIODS_CLOSE: rule(
        FINANCE, summary="Close a month of the books: nothing is posted dated in it afterwards",
        example="POST /api/erp/periods/{month}/close"),
    Action.PERIODS_REOPEN: rule(
        FINANCE, summary="Reopen a closed month, with a reason that is logged",
        example="POST /api/erp/periods/{month}/reopen"),
})

# The endpoints' principal parameters: each the caller, once the policy lets its role do the action (403 otherwise).
Reader = Annotated[Principal, POLICY.requires(Action.READ)]
WorkReader = Annotated[Principal, POLICY.requires(Action.WORK_READ)]
PeopleReader = Annotated[Principal, POLICY.requires(Action.PEOPLE_READ)]
PeopleWriter = Annotated[Principal, POLICY.requires(Action.PEOPLE_WRITE)]
CostRateReader = Annotated[Principal, POLICY.requires(Action.COST_RATES_READ)]
TimeLogger = Annotated[Principal, POLICY.requires(Action.TIME_ENTRIES_LOG)]
ProjectWriter = Annotated[Principal, POLICY.requires(Action.PROJECTS_WRITE)]
TimeEntryWriter = Annotated[Principal, POLICY.requires(Action.TIME_ENTRIES_WRITE)]
TimesheetApprover = Annotated[Principal, POLICY.requires(Action.TIMESHEETS_APPROVE)]
BillRateWriter = Annotated[Principal, POLICY.requires(Action.BILL_RATES_WRITE)]
CapacityWriter = Annotated[Principal, POLICY.requires(Action.CAPACITIES_WRITE)]
MilestoneReacher = Annotated[Principal, POLICY.requires(Action.SCHEDULE_ITEMS_REACH)]
InvoiceWriter = Annotated[Principal, POLICY.requires(Action.INVOICES_WRITE)]
PaymentWriter = Annotated[Principal, POLICY.requires(Action.PAYMENTS_WRITE)]
CreditNoteWriter = Annotated[Principal, POLICY.requires(Action.CREDIT_NOTES_WRITE)]
BillingRunner = Annotated[Principal, POLICY.requires(Action.BILLING_RUNS_WRITE)]
ReminderRunner = Annotated[Principal, POLICY.requires(Action.REMINDER_RUNS_WRITE)]
CostCenterWriter = Annotated[Principal, POLICY.requires(Action.COST_CENTERS_WRITE)]
CostRateWriter = Annotated[Principal, POLICY.requires(Action.COST_RATES_WRITE)]
ClientBillingWriter = Annotated[Principal, POLICY.requires(Action.CLIENTS_BILLING)]
ExpenseCreator = Annotated[Principal, POLICY.requires(Action.EXPENSES_CREATE)]
ExpenseSubmitter = Annotated[Principal, POLICY.requires(Action.EXPENSES_SUBMIT)]
ExpenseApprover = Annotated[Principal, POLICY.requires(Action.EXPENSES_APPROVE)]
ExpenseReimburser = Annotated[Principal, POLICY.requires(Action.EXPENSES_REIMBURSE)]
ExpenseBiller = Annotated[Principal, POLICY.requires(Action.EXPENSES_BILL)]
ExpenseCategoryWriter = Annotated[Principal, POLICY.requires(Action.EXPENSE_CATEGORIES_WRITE)]
CompanyWriter = Annotated[Principal, POLICY.requires(Action.COMPANY_WRITE)]
TaxRateWriter = Annotated[Principal, POLICY.requires(Action.TAX_RATES_WRITE)]
BankImporter = Annotated[Principal, POLICY.requires(Action.BANK_STATEMENTS_IMPORT)]
BankReconciler = Annotated[Principal, POLICY.requires(Action.BANK_LINES_RECONCILE)]
BankMappingWriter = Annotated[Principal, POLICY.requires(Action.BANK_CSV_MAPPINGS_WRITE)]
BankAccountWriter = Annotated[Principal, POLICY.requires(Action.BANK_ACCOUNTS_WRITE)]
InvoiceSender = Annotated[Principal, POLICY.requires(Action.INVOICES_SEND)]
MailTemplateWriter = Annotated[Principal, POLICY.requires(Action.MAIL_TEMPLATES_WRITE)]
BudgetWriter = Annotated[Principal, POLICY.requires(Action.BUDGETS_WRITE)]
EfficiencyReader = Annotated[Principal, POLICY.requires(Action.EFFICIENCY_READ)]
BookingWriter = Annotated[Principal, POLICY.requires(Action.BOOKINGS_WRITE)]
VendorWriter = Annotated[Principal, POLICY.requires(Action.VENDORS_WRITE)]
BillWriter = Annotated[Principal, POLICY.requires(Action.BILLS_WRITE)]
BillPayer = Annotated[Principal, POLICY.requires(Action.BILLS_PAY)]
ExchangeRateWriter = Annotated[Principal, POLICY.requires(Action.EXCHANGE_RATES_WRITE)]
RecurringItemWriter = Annotated[Principal, POLICY.requires(Action.RECURRING_ITEMS_WRITE)]
CashScenarioWriter = Annotated[Principal, POLICY.requires(Action.CASH_SCENARIOS_WRITE)]
LedgerReader = Annotated[Principal, POLICY.requires(Action.LEDGER_READ)]
AccountWriter = Annotated[Principal, POLICY.requires(Action.ACCOUNTS_WRITE)]
JournalWriter = Annotated[Principal, POLICY.requires(Action.JOURNAL_ENTRIES_WRITE)]
PeriodCloser = Annotated[Principal, POLICY.requires(Action.PERIODS_CLOSE)]
PeriodReopener = Annotated[Principal, POLICY.requires(Action.PERIODS_REOPEN)]
