"""Billing runs: invoice every schedule item due by a date, and approved billable time, exactly once.

Exactly once, however often and however concurrently it runs: each schedule item (and time entry) is
claimed with `FOR UPDATE SKIP LOCKED` and marked invoiced in the same transaction that creates its invoice;
the partial unique index `uq_invoices_schedule_item` is the second guard. A run writes and flushes; its caller
(`service`) commits.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import structlog

from erp.billing.models import BillingRun, ScheduleItemStatus
from erp.billing.repository import BillingRepository
from erp.clients.api import Client
from erp.clock import today
from erp.company.api import current_seller
from erp.invoices.api import (
    Invoice,
    LineKind,
    LineSpec,
    append_line,
    issue_invoice,
    new_invoice,
    time_billed_on_project,
)
from erp.people.api import names_of
from erp.projects.api import BudgetLine, ProjectRepository
from erp.taxes.api import TaxChoice, default_choice
from throughline_events.money import ZERO, round_money, split_by_weights
from throughline_messaging.uow import UnitOfWork

log = structlog.get_logger(__name__)


@dataclass
class RunResult:
    run: BillingRun
    invoices: list[Invoice] = field(default_factory=list)


class ClientTaxes:
    """Each client's default tax (erp.taxes: its own rate, reverse charge proposed across an EU border, the
    default rate), looked up once per client per run."""

    def __init__(self, uow: UnitOfWork, company_country: str | None) -> None:
        self.uow, self.company_country = uow, company_country
        self.known: dict[uuid.UUID, TaxChoice] = {}

    async def of(self, client: Client) -> TaxChoice:
        if client.id not in self.known:
            self.known[client.id] = await default_choice(
                self.uow, client_rate_id=client.default_tax_rate_id, client_vat_id=client.tax_id,
                company_country=self.company_country)
        return self.known[client.id]


async def run_billing(uow: UnitOfWork, *, as_of: date, issue: bool, triggered_by: str,
                      project_id: uuid.UUID | None = None) -> RunResult:
    billing = BillingRepository(uow.session)
    run = BillingRun(id=uuid.uuid4(), as_of=as_of, issue=issue, project_id=project_id, triggered_by=triggered_by,
                     invoices_created=0, items_invoiced=0, time_entries_invoiced=0)
    billing.add(run)
    await uow.session.flush()
    result = RunResult(run)
    seller = await current_seller(uow)  # once for the whole run: every invoice it issues keeps this seller
    taxes = ClientTaxes(uow, seller["country"] if seller else None)
    issue_on = today()

    budget_lines: dict[uuid.UUID, list[BudgetLine]] = {}
    for item, schedule, project, client in await billing.due_items(as_of, project_id):
        invoice = new_invoice(client=client, project=project, currency=schedule.currency, payment_terms_days=None,
                              late_fee_percent=None, notes=None, created_by=triggered_by)
        invoice.schedule_item_id, invoice.billing_run_id = item.id, run.id
        tax = await taxes.of(client)
        if project.id not in budget_lines:
            budget_lines[project.id] = await ProjectRepository(uow.session).budget_lines(project.id)
        amount = round_money(item.amount, schedule.currency)
        for description, part in _item_lines(f"{project.name}: {item.label}", amount, budget_lines[project.id],
                                             schedule.currency):
            append_line(invoice, LineSpec(description, Decimal(1), part, tax.percent, kind=LineKind.SCHEDULE,
                                          schedule_item_id=item.id, tax=tax))
        uow.session.add(invoice)
        item.status, item.invoice_id = ScheduleItemStatus.INVOICED, invoice.id
        result.invoices.append(invoice)
        run.items_invoiced += 1

    await _bill_time(uow, run, result, as_of, taxes, project_id)

    await uow.session.flush()
    if issue:
        for invoice in result.invoices:
            if invoice.total > ZERO:  # a zero invoice (a 0.00 item) stays a draft rather than failing the run
                await issue_invoice(uow, invoice, issue_on, seller=seller)
    run.invoices_created = len(result.invoices)
    log.info("billing_run", as_of=str(as_of), invoices=run.invoices_created, items=run.items_invoiced,
             time_entries=run.time_entries_invoiced, issue=issue)
    return result


def _item_lines(label: str, amount: Decimal, lines: list[BudgetLine], currency: str) -> list[tuple[str, Decimal]]:
    """A schedule item's invoice lines: one, or, for a project won on a quote, the item spread over the quote's
    lines in proportion to their amounts, each named by its description (the parts add up to the item exactly)."""
    weights = [line.amount for line in lines]
    if not lines or sum(weights, ZERO) <= ZERO:
        return [(label, amount)]
    parts = split_by_weights(amount, weights, currency)
    return [(f"{label} - {line.description}"[:500], part) for line, part in zip(lines, parts, strict=True)]


async def _bill_time(uow: UnitOfWork, run: BillingRun, result: RunResult, as_of: date, taxes: ClientTaxes,
                     project_id: uuid.UUID | None) -> None:
    """Time and materials: approved billable entries up to `as_of`, at the hourly rate, never above the cap."""
    billing = BillingRepository(uow.session)
    for schedule, project, client in await billing.time_and_materials_to_bill(as_of, project_id):
        entries = await billing.unbilled_time(project.id, as_of)
        if sum((entry.hours for entry in entries), ZERO) <= ZERO:
            # Nothing, or only corrections taking hours off (negative entries): they wait, unbilled, to be netted
            # against the project's next time; an invoice of no more than zero is not one to send.
            continue
        currency, rate = schedule.currency, round_money(Decimal(schedule.hourly_rate or 0), schedule.currency)
        remaining: Decimal | None = None
        if schedule.cap is not None:
            billed = await time_billed_on_project(uow, project.id)
            remaining = round_money(Decimal(schedule.cap), currency) - billed
            if remaining <= ZERO:
                for entry in entries:
                    entry.beyond_cap = True
                continue
        invoice = new_invoice(client=client, project=project, currency=currency, payment_terms_days=None,
                              late_fee_percent=None, notes=None, created_by=run.triggered_by)
        invoice.billing_run_id = run.id
        tax = await taxes.of(client)
        # The client reads whose time it is by name, never by the internal person id (a user's uuid).
        names = await names_of(uow.session, {entry.person_id for entry in entries})
        billed_lines = []
        for entry in entries:
            note = f" - {entry.description}" if entry.description else ""
            who = names.get(entry.person_id) or entry.person_id
            billed_lines.append((entry, append_line(invoice, LineSpec(
                f"{entry.work_date.isoformat()} {who}{note}", Decimal(entry.hours), rate, tax.percent,
                kind=LineKind.TIME, tax=tax))))
        if remaining is not None and invoice.subtotal > remaining:
            over = invoice.subtotal - remaining
            append_line(invoice, LineSpec(f"Cap of {round_money(Decimal(schedule.cap or 0), currency)} {currency} "
                                          "reached: hours above it are not billed", Decimal(1), -over, tax.percent,
                                          kind=LineKind.CAP_ADJUSTMENT, tax=tax))
        uow.session.add(invoice)
        await uow.session.flush()  # the entries' foreign keys need the invoice and its lines
        for entry, line in billed_lines:
            entry.invoice_id, entry.invoice_line_id = invoice.id, line.id
        result.invoices.append(invoice)
        run.time_entries_invoiced += len(entries)
