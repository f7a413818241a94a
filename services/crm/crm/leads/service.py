"""Lead rules: capture (API, public form, import) with an explained score and an owner from the assignment
rules; status changes; conversion to company + contact + optional deal in one transaction, idempotent."""

import uuid
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm.automation import api as automation
from crm.companies.api import (
    Company,
    CompanyIn,
    CompanyRepository,
    Contact,
    ContactIn,
    ContactRepository,
    add_company,
    add_contact,
)
from crm.db import utcnow
from crm.deals.api import DealIn, add_deal
from crm.leads import scoring
from crm.leads.models import AssignmentRule, Lead, LeadStatus
from crm.leads.repository import AssignmentRuleRepository, LeadRepository
from crm.leads.schemas import AssignmentRuleIn, ConvertIn, LeadPatch
from crm.ports import Port
from throughline_events.crm import LeadConvertedV1, LeadCreatedV1
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, Unprocessable

# A lead's score counts its activities. An activity names its lead (and logging one rescores it), so the activities
# package sits above this one and answers through the port (crm/ports.py).
count_lead_activities: Port[[AsyncSession, uuid.UUID], Awaitable[int]] = Port("how many activities a lead has")
# A converted lead's message (what the person wrote in the form) stays on the record as a note on the new contact's,
# company's and deal's timelines; notes are activities, so that package answers (crm/ports.py).
add_lead_message_note: Port[[AsyncSession, Lead], None] = Port("keep a converted lead's message as a note")


def rule_target(lead: Lead) -> automation.Target:
    """The lead as automation rules see it: `{title}` is its name (or company name); their tasks and notes link
    to it."""
    return automation.Target(record=lead, title=lambda: lead.full_name or lead.company_name or "lead",
                             links=automation.Links(lead_id=lead.id))


async def add_lead(uow: UnitOfWork, fields: dict[str, Any], *, created_by: str | None,
                   lead_id: uuid.UUID | None = None) -> Lead:
    """Stage a lead: owner from the assignment rules when none is given, score, lead.created, automation."""
    leads = LeadRepository(uow.session)
    now = utcnow()
    lead = Lead(id=lead_id or uuid.uuid4(), created_by=created_by, created_at=now, updated_at=now, **fields)
    lead.status = fields.get("status") or LeadStatus.NEW
    if not lead.owner_id:
        lead.owner_id = await _assign(uow, lead.source)
    _rescore(lead, activities=0)
    leads.add(lead)
    lead.record(LeadCreatedV1(lead_id=lead.id, name=lead.full_name or lead.company_name or "", email=lead.email,
                              company_name=lead.company_name, source=lead.source, owner_id=lead.owner_id,
                              created_at=now))
    await uow.session.flush()
    await automation.on_lead_created(uow, rule_target(lead))
    return lead


async def create_lead(uow: UnitOfWork, fields: dict[str, Any], *, created_by: str | None) -> Lead:
    lead = await add_lead(uow, fields, created_by=created_by)
    await uow.commit()
    return lead


async def _assign(uow: UnitOfWork, source: str) -> str | None:
    rule = await AssignmentRuleRepository(uow.session).matching(source)
    if rule is None or not rule.owner_ids:
        return None
    owner = rule.owner_ids[rule.next_index % len(rule.owner_ids)]
    rule.next_index = (rule.next_index + 1) % len(rule.owner_ids)
    return owner


def _rescore(lead: Lead, activities: int) -> None:
    lead.score, lead.score_reasons = scoring.score(
        source=lead.source, company_size=lead.company_size, email=lead.email, phone=lead.phone,
        message=lead.message, activities=activities)


async def rescore(uow: UnitOfWork, lead: Lead) -> None:
    """Recompute after an activity (engagement) was logged; the caller commits."""
    await uow.session.flush()
    _rescore(lead, await count_lead_activities(uow.session, lead.id))


async def get_lead(uow: UnitOfWork, lead_id: uuid.UUID) -> Lead:
    lead = await LeadRepository(uow.session).get(lead_id)
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    return lead


async def update_lead(uow: UnitOfWork, lead_id: uuid.UUID, patch: LeadPatch) -> Lead:
    repo = LeadRepository(uow.session)
    lead = await repo.get(lead_id, for_update=True)
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    if lead.status == LeadStatus.CONVERTED:
        raise Conflict("The lead is converted; change the company, contact or deal instead.",
                       type_slug="lead-converted")
    changes = patch.model_dump(exclude_unset=True)
    for field in ("first_name", "last_name"):
        if field in changes and changes[field] is None:
            changes[field] = ""
    if "source" in changes and changes["source"] is None:
        raise Unprocessable("source: cannot be cleared.")
    if "status" in changes and changes["status"] is None:
        raise Unprocessable("status: cannot be cleared.")
    status = changes.get("status", lead.status)
    if status == LeadStatus.DISQUALIFIED and not (changes.get("disqualified_reason") or lead.disqualified_reason):
        raise Unprocessable("disqualified_reason: say why the lead is disqualified.")
    if status != LeadStatus.DISQUALIFIED:
        changes["disqualified_reason"] = None
    for field, value in changes.items():
        setattr(lead, field, value)
    if not lead.email and not lead.phone:
        raise Unprocessable("A lead needs an email or a phone number.")
    lead.updated_at = utcnow()
    _rescore(lead, await count_lead_activities(uow.session, lead.id))
    await uow.commit()
    return lead


async def delete_lead(uow: UnitOfWork, lead_id: uuid.UUID) -> None:
    lead = await LeadRepository(uow.session).get(lead_id, for_update=True)
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    lead.deleted_at = lead.updated_at = utcnow()
    await uow.commit()


async def convert_lead(uow: UnitOfWork, lead_id: uuid.UUID, data: ConvertIn,
                       principal: Principal) -> tuple[Lead, bool]:
    """Company (existing, matched by domain, or new) + contact (matched by email or new) + optional deal, the
    lead marked converted, and lead.converted: all in this one transaction. A second call returns the first
    result unchanged (the lead row is locked, so concurrent calls serialise)."""
    session = uow.session
    lead = await LeadRepository(session).get(lead_id, for_update=True)
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    if lead.status == LeadStatus.CONVERTED:
        return lead, True
    if lead.status == LeadStatus.DISQUALIFIED:
        raise Conflict("A disqualified lead cannot be converted; requalify it first.", type_slug="lead-disqualified")
    company = await _company_for(uow, lead, data.company_id)
    contact = await _contact_for(uow, lead, company) if data.create_contact else None
    deal_id: uuid.UUID | None = None
    if data.deal is not None:
        draft = data.deal
        deal = await add_deal(uow, DealIn(
            title=draft.title or f"{company.name}", company_id=company.id,
            contact_id=contact.id if contact else None, pipeline_id=draft.pipeline_id, stage_id=draft.stage_id,
            amount=draft.amount, currency=draft.currency, owner_id=lead.owner_id or principal.user_id,
            expected_close_date=draft.expected_close_date, billing=draft.billing), principal)
        deal_id = deal.id
    now = utcnow()
    lead.status = LeadStatus.CONVERTED
    lead.company_id = company.id
    lead.contact_id = contact.id if contact else None
    lead.deal_id = deal_id
    lead.converted_at = lead.updated_at = now
    lead.converted_by = principal.user_id
    lead.record(LeadConvertedV1(lead_id=lead.id, company_id=company.id, contact_id=lead.contact_id,
                                deal_id=deal_id, converted_at=now))
    if lead.message:
        add_lead_message_note(session, lead)
    await uow.commit()
    return lead, False


async def _company_for(uow: UnitOfWork, lead: Lead, company_id: uuid.UUID | None) -> Company:
    companies = CompanyRepository(uow.session)
    if company_id is not None:
        company = await companies.get(company_id)
        if company is None:
            raise Unprocessable(f"company_id: company {company_id} does not exist.")
        return company
    if lead.company_domain:
        existing = await companies.find_by_domain(lead.company_domain)
        if existing is not None:
            return existing  # the lead's company is already known: no duplicate
    name = lead.company_name or lead.full_name or (lead.email or "").split("@")[0] or "Unnamed"
    return await add_company(uow, CompanyIn(
        name=name[:200], domain=lead.company_domain, size=lead.company_size, owner_id=lead.owner_id,
        phone=None, email=None), allow_duplicate=True)


async def _contact_for(uow: UnitOfWork, lead: Lead, company: Company) -> Contact | None:
    if lead.email:
        existing = await ContactRepository(uow.session).find_by_email(lead.email)
        if existing is not None:
            return existing
    first = lead.first_name or lead.last_name or (lead.email or "").split("@")[0]
    if not first:
        return None
    return await add_contact(uow, ContactIn(
        first_name=first[:100], last_name=lead.last_name if lead.first_name else "", email=lead.email,
        phone=lead.phone, title=lead.title, company_id=company.id, owner_id=lead.owner_id))


# --- assignment rules ----------------------------------------------------------------------------


async def create_assignment_rule(uow: UnitOfWork, data: AssignmentRuleIn) -> AssignmentRule:
    rule = AssignmentRule(id=uuid.uuid4(), next_index=0, **data.model_dump())
    rule.created_at = rule.updated_at = utcnow()
    AssignmentRuleRepository(uow.session).add(rule)
    await uow.commit()
    return rule


async def delete_assignment_rule(uow: UnitOfWork, rule_id: uuid.UUID) -> None:
    repo = AssignmentRuleRepository(uow.session)
    rule = await repo.get(rule_id)
    if rule is None:
        raise NotFound(f"Assignment rule {rule_id} does not exist.")
    await uow.session.delete(rule)
    await uow.commit()
