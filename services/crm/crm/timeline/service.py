"""One timeline per company, contact or deal: activities, stage changes, ERP facts and mail, newest first.

One UNION ALL query, paginated in the database; each branch uses an index on (record, time)."""

import uuid
from typing import Any, Literal

from sqlalchemy import text

from crm.companies.api import CompanyRepository, ContactRepository
from crm.deals.api import DealRepository
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import NotFound

Subject = Literal["company", "contact", "deal"]

_ACTIVITIES = """
    SELECT 'activity' AS type, a.kind AS kind, a.id AS id, a.occurred_at AS occurred_at, a.deal_id AS deal_id,
           a.subject AS summary,
           jsonb_build_object('body', a.body, 'direction', a.direction, 'contact_id', a.contact_id,
                              'created_by', a.created_by) AS data
    FROM activities a WHERE {activity_filter}"""
_STAGE_CHANGES = """
    SELECT 'stage_change' AS type, 'stage_change' AS kind, c.id AS id, c.changed_at AS occurred_at,
           c.deal_id AS deal_id,
           CASE WHEN c.from_stage_id IS NULL THEN d.title || ': opened in ' || ts.name
                ELSE d.title || ': ' || fs.name || ' -> ' || ts.name END AS summary,
           jsonb_build_object('from_stage_id', c.from_stage_id, 'from_stage_name', fs.name,
                              'to_stage_id', c.to_stage_id, 'to_stage_name', ts.name, 'changed_by', c.changed_by,
                              'seconds_in_previous_stage', c.seconds_in_previous_stage) AS data
    FROM deal_stage_changes c JOIN deals d ON d.id = c.deal_id
    JOIN stages ts ON ts.id = c.to_stage_id LEFT JOIN stages fs ON fs.id = c.from_stage_id
    WHERE {change_filter}"""
_ERP_FACTS = """
    SELECT 'erp_fact' AS type, f.kind AS kind, f.id AS id, f.occurred_at AS occurred_at, f.deal_id AS deal_id,
           f.summary AS summary, f.data AS data
    FROM erp_facts f WHERE {fact_filter}"""

# Mail sent (queued until its outcome is recorded: sent, bounced, failed) or received (docs/crm-communications.md).
_MAILS = """
    SELECT 'mail' AS type, m.direction AS kind, m.id AS id, m.occurred_at AS occurred_at, m.deal_id AS deal_id,
           m.subject AS summary,
           jsonb_build_object('status', m.status, 'from', m.from_address, 'to', m.to_addresses,
                              'text', left(m.text_body, 500), 'contact_id', m.contact_id, 'lead_id', m.lead_id,
                              'sequence_id', m.sequence_id, 'step_position', m.step_position, 'error', m.error,
                              'sent_by', m.sent_by, 'attachments', jsonb_array_length(m.attachments)) AS data
    FROM crm_mails m WHERE {mail_filter}"""

_FILTERS: dict[str, tuple[str, str, str, str]] = {
    "company": ("a.company_id = :id", "d.company_id = :id", "f.company_id = :id", "m.company_id = :id"),
    "contact": ("a.contact_id = :id", "d.contact_id = :id",
                "f.deal_id IN (SELECT id FROM deals WHERE contact_id = :id)", "m.contact_id = :id"),
    "deal": ("a.deal_id = :id", "c.deal_id = :id", "f.deal_id = :id", "m.deal_id = :id"),
}


async def timeline(uow: UnitOfWork, subject: Subject, record_id: uuid.UUID, limit: int,
                   offset: int) -> tuple[list[dict[str, Any]], int]:
    await _must_exist(uow, subject, record_id)
    activity_filter, change_filter, fact_filter, mail_filter = _FILTERS[subject]
    union = " UNION ALL ".join((
        _ACTIVITIES.format(activity_filter=activity_filter),
        _STAGE_CHANGES.format(change_filter=change_filter),
        _ERP_FACTS.format(fact_filter=fact_filter),
        _MAILS.format(mail_filter=mail_filter),
    ))
    session = uow.session
    rows = (await session.execute(
        text(f"SELECT * FROM ({union}) t ORDER BY occurred_at DESC, id DESC LIMIT :limit OFFSET :offset"),
        {"id": record_id, "limit": limit, "offset": offset})).mappings().all()
    total = (await session.execute(text(f"SELECT count(*) FROM ({union}) t"), {"id": record_id})).scalar_one()
    items = [dict(row) for row in rows]
    return items, int(total)


async def _must_exist(uow: UnitOfWork, subject: Subject, record_id: uuid.UUID) -> None:
    session = uow.session
    found: object
    if subject == "company":
        found = await CompanyRepository(session).get(record_id)
    elif subject == "contact":
        found = await ContactRepository(session).get(record_id)
    else:
        found = await DealRepository(session).get(record_id)
    if found is None:
        raise NotFound(f"{subject.capitalize()} {record_id} does not exist.")
