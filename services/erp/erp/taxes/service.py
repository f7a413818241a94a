"""Tax rates: data finance keeps (standard, reduced, zero, exempt, reverse charge), and the tax a line gets.

A line's tax is decided once, when the line is written, in this order: the rate the line names; the client's
default rate; reverse charge, proposed for a business client in another EU member state; the default rate;
ERP_DEFAULT_TAX_RATE (a percent without a rate) when nothing is configured.
"""

import uuid

from erp.settings import get_settings
from erp.taxes.models import TaxCategory, TaxRate
from erp.taxes.repository import TaxRateRepository
from erp.taxes.rules import STANDARD_RATES, TaxChoice, fallback_choice, proposes_reverse_charge, rate_problem
from erp.taxes.schemas import TaxRateIn, TaxRatePatch
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable


def _field_problem(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}.", errors=[{"field": field, "message": message, "type": "tax_rate"}])


async def get_rate(uow: UnitOfWork, rate_id: uuid.UUID) -> TaxRate:
    rate = await TaxRateRepository(uow.session).get(rate_id)
    if rate is None:
        raise NotFound(f"Tax rate {rate_id} does not exist.")
    return rate


async def create_rate(uow: UnitOfWork, body: TaxRateIn) -> TaxRate:
    rates = TaxRateRepository(uow.session)
    problem = rate_problem(body.category, body.percent, body.legal_note)
    if problem:
        raise _field_problem(*problem)
    if body.is_default and not body.active:
        raise _field_problem("is_default", "an archived rate cannot be the default")
    if await rates.by_name(body.name) is not None:
        raise Conflict(f"A tax rate named {body.name!r} already exists.")
    if body.is_default:
        await rates.clear_default()
    rate = TaxRate(id=uuid.uuid4(), name=body.name, category=body.category, percent=body.percent,
                   legal_note=body.legal_note or None, is_default=body.is_default, active=body.active)
    rates.add(rate)
    await uow.commit()
    return rate


async def update_rate(uow: UnitOfWork, rate_id: uuid.UUID, body: TaxRatePatch) -> TaxRate:
    """Lines keep the percent, category and note they were written with: a change applies to new lines only."""
    rates = TaxRateRepository(uow.session)
    rate = await get_rate(uow, rate_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "category", "percent", "is_default", "active"):
        if field in changes and changes[field] is None:
            raise _field_problem(field, "cannot be null")
    category, percent = changes.get("category", rate.category), changes.get("percent", rate.percent)
    note = changes.get("legal_note", rate.legal_note)
    problem = rate_problem(category, percent, note)
    if problem:
        raise _field_problem(*problem)
    if "name" in changes and changes["name"].lower() != rate.name.lower() and await rates.by_name(changes["name"]):
        raise Conflict(f"A tax rate named {changes['name']!r} already exists.")
    active = changes.get("active", rate.active)
    default = changes.get("is_default", rate.is_default)
    if default and not active:
        raise Conflict(f"{rate.name!r} is the default rate: make another rate the default before archiving it."
                       if rate.is_default else "An archived rate cannot be the default.")
    if default and not rate.is_default:
        await rates.clear_default()
        await uow.session.flush()
    for field, value in changes.items():
        setattr(rate, field, value or None if field == "legal_note" else value)
    await uow.commit()
    return rate


async def choice_of(uow: UnitOfWork, rate_id: uuid.UUID, field: str = "tax_rate_id") -> TaxChoice:
    """The tax of a rate a line or a client names: it must exist and be active (422 naming the field)."""
    rate = await TaxRateRepository(uow.session).get(rate_id)
    if rate is None:
        raise _field_problem(field, f"tax rate {rate_id} does not exist")
    if not rate.active:
        raise _field_problem(field, f"tax rate {rate.name!r} is archived")
    return TaxChoice(rate.id, rate.percent, rate.category, rate.legal_note)


async def default_choice(uow: UnitOfWork, *, client_rate_id: uuid.UUID | None, client_vat_id: str | None,
                         company_country: str | None) -> TaxChoice:
    """The tax of a line that names none (see the module's docstring for the order)."""
    rates = TaxRateRepository(uow.session)
    if client_rate_id is not None:
        rate = await rates.get(client_rate_id)
        if rate is not None and rate.active:
            return TaxChoice(rate.id, rate.percent, rate.category, rate.legal_note)
    if proposes_reverse_charge(company_country, client_vat_id):
        rate = await rates.first_active(TaxCategory.REVERSE_CHARGE)
        if rate is not None:
            return TaxChoice(rate.id, rate.percent, rate.category, rate.legal_note)
    rate = await rates.default()
    if rate is not None:
        return TaxChoice(rate.id, rate.percent, rate.category, rate.legal_note)
    return fallback_choice(get_settings().default_tax_rate)


async def seed_country(uow: UnitOfWork, country: str) -> TaxRate | None:
    """The country's standard rate, made the default, the first time the company names a country that has one
    in `STANDARD_RATES` and no taxed rate exists yet (in the caller's transaction)."""
    rates = TaxRateRepository(uow.session)
    percent = STANDARD_RATES.get(country)
    if percent is None or await rates.has_taxed_rate():
        return None
    name = f"Standard {percent.normalize():f} %"
    if await rates.by_name(name) is not None:
        return None
    has_default = await rates.default() is not None
    rate = TaxRate(id=uuid.uuid4(), name=name, category=TaxCategory.STANDARD, percent=percent, legal_note=None,
                   is_default=not has_default, active=True)
    rates.add(rate)
    await uow.session.flush()
    return rate

