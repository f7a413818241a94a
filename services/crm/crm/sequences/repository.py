import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.sequences.models import Enrolment, Sequence, SequenceStep, StepRun
from throughline_platform.paging import page_with_total


class SequenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, sequence: Sequence) -> None:
        self.session.add(sequence)

    async def get(self, sequence_id: uuid.UUID, *, for_update: bool = False) -> Sequence | None:
        if for_update:
            return (await self.session.execute(
                select(Sequence).where(Sequence.id == sequence_id).with_for_update())).scalars().first()
        return await self.session.get(Sequence, sequence_id)

    async def by_name(self, name: str) -> Sequence | None:
        return (await self.session.execute(
            select(Sequence).where(func.lower(Sequence.name) == name.lower()))).scalars().first()

    async def all(self) -> list[Sequence]:
        return list((await self.session.execute(select(Sequence).order_by(Sequence.name))).scalars())

    async def many(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Sequence]:
        if not ids:
            return {}
        return {s.id: s for s in (await self.session.execute(select(Sequence).where(Sequence.id.in_(ids)))).scalars()}

    async def steps(self, sequence_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[SequenceStep]]:
        """Each sequence's steps, in order."""
        found: dict[uuid.UUID, list[SequenceStep]] = {i: [] for i in sequence_ids}
        if not sequence_ids:
            return found
        rows = await self.session.execute(select(SequenceStep).where(SequenceStep.sequence_id.in_(sequence_ids))
                                          .order_by(SequenceStep.sequence_id, SequenceStep.position))
        for step in rows.scalars():
            found[step.sequence_id].append(step)
        return found

    async def enrolment_counts(self, sequence_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
        counts: dict[uuid.UUID, dict[str, int]] = {i: {} for i in sequence_ids}
        if not sequence_ids:
            return counts
        rows = await self.session.execute(
            select(Enrolment.sequence_id, Enrolment.status, func.count()).where(
                Enrolment.sequence_id.in_(sequence_ids)).group_by(Enrolment.sequence_id, Enrolment.status))
        for sequence_id, status, count in rows:
            counts[sequence_id][status] = count
        return counts


class EnrolmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, enrolment: Enrolment) -> None:
        self.session.add(enrolment)

    async def get(self, enrolment_id: uuid.UUID, *, for_update: bool = False) -> Enrolment | None:
        if for_update:
            return (await self.session.execute(
                select(Enrolment).where(Enrolment.id == enrolment_id).with_for_update())).scalars().first()
        return await self.session.get(Enrolment, enrolment_id)

    async def active_for(self, sequence_id: uuid.UUID, *, contact_id: uuid.UUID | None,
                         lead_id: uuid.UUID | None) -> Enrolment | None:
        query = select(Enrolment).where(Enrolment.sequence_id == sequence_id, Enrolment.status == "active")
        query = query.where(Enrolment.contact_id == contact_id) if contact_id else query.where(
            Enrolment.lead_id == lead_id)
        return (await self.session.execute(query)).scalars().first()

    async def search(self, *, sequence_id: uuid.UUID | None, contact_id: uuid.UUID | None,
                     lead_id: uuid.UUID | None, deal_id: uuid.UUID | None, status: str | None, limit: int,
                     offset: int) -> tuple[list[Enrolment], int]:
        query = select(Enrolment)
        for column, value in ((Enrolment.sequence_id, sequence_id), (Enrolment.contact_id, contact_id),
                              (Enrolment.lead_id, lead_id), (Enrolment.deal_id, deal_id),
                              (Enrolment.status, status)):
            if value is not None:
                query = query.where(column == value)
        return await page_with_total(self.session, query, Enrolment.created_at.desc(), Enrolment.id, limit=limit,
                                     offset=offset)

    async def runs(self, enrolment_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[StepRun]]:
        found: dict[uuid.UUID, list[StepRun]] = {i: [] for i in enrolment_ids}
        if not enrolment_ids:
            return found
        rows = await self.session.execute(select(StepRun).where(StepRun.enrolment_id.in_(enrolment_ids))
                                          .order_by(StepRun.position))
        for run in rows.scalars():
            found[run.enrolment_id].append(run)
        return found
