import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.leads.models import AssignmentRule, AssignmentStrategy, CaptureKey, CaptureSubmission, Lead
from throughline_platform.paging import page_with_total

SORTABLE = {"created_at": Lead.created_at, "score": Lead.score, "updated_at": Lead.updated_at}


class LeadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, lead: Lead) -> None:
        self.session.add(lead)

    async def get(self, lead_id: uuid.UUID, *, for_update: bool = False) -> Lead | None:
        if for_update:
            lead = (await self.session.execute(
                select(Lead).where(Lead.id == lead_id).with_for_update())).scalars().first()
        else:
            lead = await self.session.get(Lead, lead_id)
        return lead if lead is not None and lead.deleted_at is None else None

    async def search(self, *, q: str | None, status: str | None, owner_id: str | None, source: str | None,
                     min_score: int | None, sort: str, descending: bool, limit: int,
                     offset: int, received_from: date | None = None,
                     received_to: date | None = None) -> tuple[list[Lead], int]:
        query = select(Lead).where(Lead.deleted_at.is_(None))
        # Days in UTC: from the start of `received_from` to the end of `received_to`.
        if received_from is not None:
            query = query.where(Lead.created_at >= datetime.combine(received_from, time.min, UTC))
        if received_to is not None:
            query = query.where(Lead.created_at < datetime.combine(received_to + timedelta(days=1), time.min, UTC))
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(or_(func.concat(Lead.first_name, " ", Lead.last_name).ilike(pattern),
                                    Lead.email.ilike(pattern), Lead.company_name.ilike(pattern)))
        if status:
            query = query.where(Lead.status == status)
        if owner_id:
            query = query.where(Lead.owner_id == owner_id)
        if source:
            query = query.where(Lead.source == source)
        if min_score is not None:
            query = query.where(Lead.score >= min_score)
        column = SORTABLE[sort]
        return await page_with_total(self.session, query, column.desc() if descending else column.asc(), Lead.id,
                                     limit=limit, offset=offset)


class AssignmentRuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, rule: AssignmentRule) -> None:
        self.session.add(rule)

    async def get(self, rule_id: uuid.UUID) -> AssignmentRule | None:
        return await self.session.get(AssignmentRule, rule_id)

    async def list(self) -> list[AssignmentRule]:
        return list((await self.session.execute(
            select(AssignmentRule).order_by(AssignmentRule.position, AssignmentRule.created_at))).scalars())

    async def matching(self, source: str) -> AssignmentRule | None:
        """The first active rule for this source, locked so that concurrent leads take turns correctly."""
        return (await self.session.execute(
            select(AssignmentRule)
            .where(AssignmentRule.active,
                   or_(AssignmentRule.strategy == AssignmentStrategy.ROUND_ROBIN, AssignmentRule.source == source))
            .order_by(AssignmentRule.position, AssignmentRule.created_at).limit(1).with_for_update()
        )).scalars().first()


class CaptureKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, key: CaptureKey) -> None:
        self.session.add(key)

    async def get(self, key_id: uuid.UUID) -> CaptureKey | None:
        return await self.session.get(CaptureKey, key_id)

    async def list(self) -> list[CaptureKey]:
        return list((await self.session.execute(
            select(CaptureKey).order_by(CaptureKey.revoked_at.is_not(None), CaptureKey.created_at.desc()))).scalars())

    async def live_by_hash(self, key_hash: str) -> CaptureKey | None:
        return (await self.session.execute(
            select(CaptureKey).where(CaptureKey.key_hash == key_hash, CaptureKey.revoked_at.is_(None))
        )).scalars().first()

    async def origin_allowed(self, origin: str) -> bool:
        """Does any live key let pages of this origin post (the answer to a CORS preflight, which names no key)?"""
        return (await self.session.execute(
            select(func.count()).select_from(CaptureKey).where(
                CaptureKey.revoked_at.is_(None), CaptureKey.allowed_origins.contains([origin])))).scalar_one() > 0

    async def claim_submission(self, submission: str, lead_id: uuid.UUID, now: datetime) -> uuid.UUID | None:
        """Record the submission for a new lead, or find it: None when it is new (and now claimed for `lead_id`),
        the first lead's id when it was received before. A concurrent post of the same submission waits here on
        the row until the first one's transaction ends, then sees it."""
        claimed = (await self.session.execute(
            insert(CaptureSubmission).values(submission=submission, lead_id=lead_id, created_at=now)
            .on_conflict_do_nothing(index_elements=["submission"]).returning(CaptureSubmission.lead_id)
        )).scalar_one_or_none()
        if claimed is not None:
            return None
        first = await self.session.get(CaptureSubmission, submission)
        assert first is not None  # the conflict was with a committed row
        return first.lead_id
