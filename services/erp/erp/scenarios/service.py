"""The forward cash forecast and its scenarios.

Week by week from today's bank balance (the latest statements' closing balances, or a balance finance entered when
that is newer): cash in from open invoices and schedule items (billing schedules, retainers), each on the day its
client's own history says it pays (the average days late of its paid invoices, not the due date), and from open
deals weighted by probability on their billing terms; cash out from vendor bills, approved expenses not yet
reimbursed and recurring items (payroll, rent). A scenario is a list of what-ifs applied over the same flows.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from erp.fx.api import rates_on, required_base
from erp.scenarios import forecast as fc
from erp.scenarios.models import Direction, OpeningBalance, RecurringItem, Scenario
from erp.scenarios.pipeline import PipelineDeal, pipeline_deals, pipeline_flows
from erp.scenarios.repository import ScenarioRepository
from erp.scenarios.schemas import (
    Adjustment,
    BillPaidEarly,
    ClientPaysLate,
    Comparison,
    DealLost,
    DealWon,
    Forecast,
    ForecastWeek,
    Hire,
    OpeningBalanceIn,
    OpeningBalanceOut,
    RateUsed,
    RecurringItemIn,
    ScenarioIn,
    ScenarioOut,
    ScenarioPatch,
    WeekDelta,
)
from throughline_events.money import ZERO, check_amount, check_currency, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, Unprocessable

MAX_WEEKS = 104
ADJUSTMENTS = TypeAdapter(list[Adjustment])


# --- the forecast --------------------------------------------------------------------------------


async def forecast(uow: UnitOfWork, as_of: date, weeks: int) -> Forecast:
    return (await _projected(uow, as_of, weeks, []))[0]


async def compare(uow: UnitOfWork, adjustments: list[Adjustment], as_of: date, weeks: int,
                  scenario: Scenario | None = None) -> Comparison:
    """A saved scenario's adjustments were checked when saved; a deal won or lost since, or a bill paid since, has
    no flows left to change, so it changes nothing now. Unsaved adjustments (a preview) are checked."""
    baseline, with_changes = await _projected(uow, as_of, weeks, adjustments, check=scenario is None)
    assert with_changes is not None  # adjustments were given
    return Comparison(
        scenario=ScenarioOut.model_validate(scenario) if scenario else None, baseline=baseline,
        forecast=with_changes,
        weeks=[WeekDelta(week_start=b.week_start, baseline=b.closing, scenario=s.closing, delta=s.closing - b.closing)
               for b, s in zip(baseline.weeks, with_changes.weeks, strict=True)])


async def _projected(uow: UnitOfWork, as_of: date, weeks: int, adjustments: list[Adjustment],
                     check: bool = True) -> tuple[Forecast, Forecast | None]:
    """The baseline, and the forecast with the adjustments (None without any), from one read of the flows."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise Unprocessable(f"weeks is 1..{MAX_WEEKS}.")
    session = uow.session
    base = await required_base(session)
    horizon_end = fc.week_start(as_of) + timedelta(weeks=weeks) - timedelta(days=1)
    repo = ScenarioRepository(session)
    deals = await pipeline_deals(session)
    if check:
        await _check_references(repo, adjustments, {d.deal_id: d for d in deals})
    flows = [*await _receivables(repo), *await _payables(repo), *await _recurring(repo, as_of, horizon_end),
             *await pipeline_flows(session, deals, repo, as_of)]
    changed = _adjusted(flows, adjustments, {d.deal_id: d for d in deals}, base, horizon_end) if adjustments \
        else None
    statements, entered = await repo.statement_balances(as_of), await repo.entered_balance(as_of)
    currencies = {f.currency for f in flows} | {f.currency for f in changed or []} | {
        s["currency"] for s in statements} | ({entered.currency} if entered else set())
    rates = await rates_on(session, currencies | {base}, as_of)
    plain_rates = {c: r.rate for c, r in rates.items()}
    opening = _opening(entered, statements, plain_rates, base)
    used = [RateUsed(currency=c, rate=r.rate, rate_date=r.rate_date) for c, r in sorted(rates.items()) if c != base]

    def result(these: list[fc.Flow]) -> Forecast:
        projection = fc.project(these, plain_rates, base, opening.amount, as_of, weeks)
        return Forecast(
            as_of=as_of, base_currency=base, opening_balance=opening, weeks=[_week_out(w) for w in projection.weeks],
            lowest_balance=projection.lowest_balance, lowest_week=projection.lowest_week,
            beyond_horizon_in=projection.beyond_in, beyond_horizon_out=projection.beyond_out, rates=used)

    return result(flows), (result(changed) if changed is not None else None)


def _week_out(week: fc.Week) -> ForecastWeek:
    return ForecastWeek(week_start=week.start, week_end=week.end, opening=week.opening, **week.sums,
                        inflow=week.inflow, outflow=week.outflow, net=week.inflow - week.outflow,
                        closing=week.closing)


def _opening(entered: OpeningBalance | None, statements: list[dict[str, Any]], rates: dict[str, Decimal],
             base: str) -> OpeningBalanceOut:
    """The bank statements' closing balances (each account's latest), unless finance entered a balance on a later
    day (or the same day: the entered one is the deliberate one). `rates` has every currency involved."""
    statement_day = max((s["closing_date"] for s in statements), default=None)
    if entered is not None and (statement_day is None or entered.as_of >= statement_day):
        return OpeningBalanceOut(amount=round_money(entered.amount * rates[entered.currency], base), currency=base,
                                 as_of=entered.as_of, source="entered", note=entered.note)
    if statement_day is None:
        return OpeningBalanceOut(amount=ZERO, currency=base, as_of=None, source="none",
                                 note="No bank statement and no opening balance yet: the forecast starts at 0.")
    total = sum((round_money(Decimal(s["closing_balance"]) * rates[s["currency"]], base) for s in statements), ZERO)
    accounts = ", ".join(sorted(s["account"] for s in statements))
    return OpeningBalanceOut(amount=total, currency=base, as_of=statement_day, source="bank_statement",
                             note=f"Closing balances of {accounts}")


async def _receivables(repo: ScenarioRepository) -> list[fc.Flow]:
    return [fc.Flow(r["source"], Decimal(r["amount"]), r["currency"], r["expected_on"], client_id=r["client_id"])
            for r in await repo.receivable_flows()]


async def _payables(repo: ScenarioRepository) -> list[fc.Flow]:
    return [fc.Flow(r["source"], Decimal(r["amount"]), r["currency"], r["expected_on"], bill_id=r["bill_id"])
            for r in await repo.payable_flows()]


async def _recurring(repo: ScenarioRepository, as_of: date, until: date) -> list[fc.Flow]:
    first = fc.week_start(as_of)
    flows = []
    for item in await repo.active_recurring_items(as_of):
        source = "other_in" if item.direction == Direction.IN else "recurring"
        # What fell before the forecast's first week was paid already (it is in the bank balance).
        flows += fc.repeating(source, item.amount, item.currency, item.start_date, item.end_date, until,
                              item.interval, since=first)
    return flows


def _adjusted(flows: list[fc.Flow], adjustments: list[Adjustment], deals: dict[uuid.UUID, PipelineDeal], base: str,
              until: date) -> list[fc.Flow]:
    for change in adjustments:
        if isinstance(change, ClientPaysLate):
            flows = fc.client_pays_late(flows, change.client_id, change.days)
        elif isinstance(change, DealLost):
            flows = fc.deal_lost(flows, change.deal_id)
        elif isinstance(change, DealWon) and change.deal_id in deals:
            expected = deals[change.deal_id].expected_close
            shift = (change.won_on - expected).days if change.won_on and expected else 0
            flows = fc.deal_won(flows, change.deal_id, shift)
        elif isinstance(change, BillPaidEarly):
            flows = fc.bill_paid_early(flows, change.bill_id, change.pay_on)
        elif isinstance(change, Hire):
            flows = flows + fc.repeating("hires", change.monthly_cost, change.currency or base, change.start_date,
                                         change.end_date, until, "month")
    return flows


async def _check_references(repo: ScenarioRepository, adjustments: list[Adjustment],
                            deals: dict[uuid.UUID, PipelineDeal]) -> None:
    """Each adjustment names something that exists and is still open (a 422 naming it otherwise)."""
    for i, change in enumerate(adjustments):
        where = f"adjustments[{i}]"
        if isinstance(change, ClientPaysLate) and not await repo.client_exists(change.client_id):
            raise Unprocessable(f"{where}: client {change.client_id} does not exist.", type_slug="unknown-client")
        if isinstance(change, DealLost | DealWon) and change.deal_id not in deals:
            raise Unprocessable(f"{where}: deal {change.deal_id} is not an open deal.", type_slug="unknown-deal")
        if isinstance(change, BillPaidEarly) and not await repo.open_bill(change.bill_id):
            raise Unprocessable(f"{where}: bill {change.bill_id} is not a bill still owed.", type_slug="unknown-bill")
        if isinstance(change, Hire):
            try:
                if change.currency:
                    check_amount(change.monthly_cost, change.currency, field="monthly_cost")
            except ValueError as exc:
                raise Unprocessable(f"{where}: {exc}.", type_slug="invalid-money") from None
            if change.end_date is not None and change.end_date < change.start_date:
                raise Unprocessable(f"{where}: end_date must not be before start_date.")


# --- saved scenarios -----------------------------------------------------------------------------


async def get_scenario(uow: UnitOfWork, scenario_id: uuid.UUID) -> Scenario:
    scenario = await ScenarioRepository(uow.session).scenario(scenario_id)
    if scenario is None:
        raise NotFound(f"Scenario {scenario_id} does not exist.")
    return scenario


def adjustments_of(scenario: Scenario) -> list[Adjustment]:
    return ADJUSTMENTS.validate_python(scenario.adjustments)


async def create_scenario(uow: UnitOfWork, principal: Principal, body: ScenarioIn) -> Scenario:
    repo = ScenarioRepository(uow.session)
    if await repo.scenario_by_name(body.name) is not None:
        raise Conflict(f"A scenario named {body.name!r} already exists.", type_slug="duplicate-scenario")
    await _check_references(repo, body.adjustments, {d.deal_id: d for d in await pipeline_deals(uow.session)})
    scenario = Scenario(id=uuid.uuid4(), name=body.name, description=body.description,
                        adjustments=ADJUSTMENTS.dump_python(body.adjustments, mode="json"),
                        created_by=principal.user_id)
    repo.add(scenario)
    await uow.commit()
    return scenario


async def update_scenario(uow: UnitOfWork, scenario_id: uuid.UUID, body: ScenarioPatch) -> Scenario:
    repo = ScenarioRepository(uow.session)
    scenario = await get_scenario(uow, scenario_id)
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes:
        if changes["name"] is None:
            raise Unprocessable("name cannot be null.")
        same = await repo.scenario_by_name(changes["name"])
        if same is not None and same.id != scenario.id:
            raise Conflict(f"A scenario named {changes['name']!r} already exists.", type_slug="duplicate-scenario")
        scenario.name = changes["name"]
    if "description" in changes:
        scenario.description = changes["description"]
    if body.adjustments is not None:
        await _check_references(repo, body.adjustments,
                                {d.deal_id: d for d in await pipeline_deals(uow.session)})
        scenario.adjustments = ADJUSTMENTS.dump_python(body.adjustments, mode="json")
    elif "adjustments" in changes:
        raise Unprocessable("adjustments cannot be null.")
    await uow.commit()
    return scenario


async def delete_scenario(uow: UnitOfWork, scenario_id: uuid.UUID) -> None:
    scenario = await get_scenario(uow, scenario_id)
    await ScenarioRepository(uow.session).delete(scenario)
    await uow.commit()


# --- recurring items and the opening balance -----------------------------------------------------


async def create_recurring_item(uow: UnitOfWork, body: RecurringItemIn) -> RecurringItem:
    amount = _checked(body.amount, body.currency)
    item = RecurringItem(id=uuid.uuid4(), name=body.name, kind=body.kind, direction=body.direction, amount=amount,
                         currency=body.currency, interval=body.interval, start_date=body.start_date,
                         end_date=body.end_date)
    ScenarioRepository(uow.session).add(item)
    await uow.commit()
    return item


async def update_recurring_item(uow: UnitOfWork, item_id: uuid.UUID, body: RecurringItemIn) -> RecurringItem:
    item = await _recurring_item(uow, item_id)
    item.amount = _checked(body.amount, body.currency)
    item.name, item.kind, item.direction, item.currency = body.name, body.kind, body.direction, body.currency
    item.interval, item.start_date, item.end_date = body.interval, body.start_date, body.end_date
    await uow.commit()
    return item


async def delete_recurring_item(uow: UnitOfWork, item_id: uuid.UUID) -> None:
    item = await _recurring_item(uow, item_id)
    await ScenarioRepository(uow.session).delete(item)
    await uow.commit()


async def _recurring_item(uow: UnitOfWork, item_id: uuid.UUID) -> RecurringItem:
    item = await ScenarioRepository(uow.session).recurring_item(item_id)
    if item is None:
        raise NotFound(f"Recurring item {item_id} does not exist.")
    return item


async def enter_opening_balance(uow: UnitOfWork, principal: Principal, body: OpeningBalanceIn) -> OpeningBalance:
    try:
        amount = check_amount(body.amount, body.currency, allow_negative=True)
    except ValueError as exc:
        raise Unprocessable(str(exc), type_slug="invalid-money") from None
    balance = OpeningBalance(id=uuid.uuid4(), as_of=body.as_of, amount=amount, currency=body.currency,
                             note=body.note, entered_by=principal.user_id)
    ScenarioRepository(uow.session).add(balance)
    await uow.commit()
    return balance


async def opening_balance(uow: UnitOfWork, as_of: date) -> OpeningBalanceOut:
    repo = ScenarioRepository(uow.session)
    base = await required_base(uow.session)
    statements = await repo.statement_balances(as_of)
    entered = await repo.entered_balance(as_of)
    currencies = {s["currency"] for s in statements} | ({entered.currency} if entered else set()) | {base}
    rates = await rates_on(uow.session, currencies, as_of)
    return _opening(entered, statements, {c: r.rate for c, r in rates.items()}, base)


def _checked(amount: Decimal, currency: str) -> Decimal:
    try:
        check_currency(currency)
        return check_amount(amount, currency)
    except ValueError as exc:
        raise Unprocessable(str(exc), type_slug="invalid-money") from None
