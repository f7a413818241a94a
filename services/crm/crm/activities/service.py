"""Activity rules: linked to at least one live record; the company is filled in from the deal or contact so
the company timeline shows everything; a deal's last activity (idle flag) and a lead's score follow."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from crm.activities.models import Activity, ActivityKind
from crm.activities.repository import ActivityRepository
from crm.activities.schemas import ActivityIn
from crm.automation.api import CREATED_BY, RuleNote
from crm.companies.api import CompanyRepository, ContactRepository
from crm.db import utcnow
from crm.deals.api import DealRepository
from crm.leads.api import Lead, LeadRepository, rescore
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import NotFound, Unprocessable


async def log_activity(uow: UnitOfWork, data: ActivityIn, *, created_by: str | None,
                       automation_rule_id: uuid.UUID | None = None, commit: bool = True) -> Activity:
    session = uow.session
    company_id, contact_id = data.company_id, data.contact_id
    deal = None
    if data.deal_id is not None:
        deal = await DealRepository(session).get(data.deal_id)
        if deal is None:
            raise Unprocessable(f"deal_id: deal {data.deal_id} does not exist.")
        company_id = company_id or deal.company_id
        contact_id = contact_id or deal.contact_id
    if contact_id is not None:
        contact = await ContactRepository(session).get(contact_id)
        if contact is None:
            raise Unprocessable(f"contact_id: contact {contact_id} does not exist.")
        company_id = company_id or contact.company_id
    if company_id is not None and await CompanyRepository(session).get(company_id) is None:
        raise Unprocessable(f"company_id: company {company_id} does not exist.")
    lead = None
    if data.lead_id is not None:
        lead = await LeadRepository(session).get(data.lead_id, for_update=True)
        if lead is None:
            raise Unprocessable(f"lead_id: lead {data.lead_id} does not exist.")
    now = utcnow()
    activity = Activity(
        id=uuid.uuid4(), kind=data.kind, subject=data.subject, body=data.body, direction=data.direction,
        occurred_at=data.occurred_at or now, company_id=company_id, contact_id=contact_id, deal_id=data.deal_id,
        lead_id=data.lead_id, created_by=created_by, automation_rule_id=automation_rule_id, created_at=now,
        updated_at=now)
    ActivityRepository(session).add(activity)
    if deal is not None and automation_rule_id is None:
        # Automated notes are not contact with the customer: they do not make a deal look active.
        touched = min(activity.occurred_at, now)
        if deal.last_activity_at is None or touched > deal.last_activity_at:
            deal.last_activity_at = touched
    if lead is not None:
        await rescore(uow, lead)
    if commit:
        await uow.commit()
    return activity


async def get_activity(uow: UnitOfWork, activity_id: uuid.UUID) -> Activity:
    activity = await ActivityRepository(uow.session).get(activity_id)
    if activity is None:
        raise NotFound(f"Activity {activity_id} does not exist.")
    return activity


async def delete_activity(uow: UnitOfWork, activity_id: uuid.UUID) -> None:
    activity = await get_activity(uow, activity_id)
    await uow.session.delete(activity)
    await uow.commit()


def add_rule_note(session: AsyncSession, note: RuleNote) -> None:
    """Log the note of an automation rule's log_note action (the engine's port `add_rule_note`). Its links come
    from the record the rule fired on, so they are not checked again, and it does not touch the deal's last
    activity: an automated note is not contact with the customer."""
    ActivityRepository(session).add(Activity(
        id=uuid.uuid4(), kind=ActivityKind.NOTE, subject=note.subject, body=note.body, direction=None,
        occurred_at=note.created_at, created_by=CREATED_BY, automation_rule_id=note.rule_id,
        company_id=note.links.company_id, contact_id=note.links.contact_id, deal_id=note.links.deal_id,
        lead_id=note.links.lead_id, created_at=note.created_at, updated_at=note.created_at))


def add_lead_message_note(session: AsyncSession, lead: Lead) -> None:
    """Keep a converted lead's message as a note (the leads package's port): linked to the lead and to what it became
    (company, contact, deal), dated when the lead came in, so every timeline shows what the person first wrote."""
    name = lead.full_name or lead.company_name or lead.email or "the lead"
    now = utcnow()
    ActivityRepository(session).add(Activity(
        id=uuid.uuid4(), kind=ActivityKind.NOTE, subject=f"Message from {name} ({lead.source})"[:200],
        body=lead.message, direction=None, occurred_at=lead.created_at, created_by=lead.converted_by,
        automation_rule_id=None, company_id=lead.company_id, contact_id=lead.contact_id, deal_id=lead.deal_id,
        lead_id=lead.id, created_at=now, updated_at=now))


async def count_lead_activities(session: AsyncSession, lead_id: uuid.UUID) -> int:
    """How many activities a lead has (the leads package's port: its score counts them)."""
    return await ActivityRepository(session).count_for_lead(lead_id)

