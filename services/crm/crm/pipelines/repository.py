import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.pipelines.models import Pipeline, Stage, StageKind


class PipelineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, pipeline: Pipeline) -> None:
        self.session.add(pipeline)

    def add_stage(self, stage: Stage) -> None:
        self.session.add(stage)

    async def all(self) -> list[Pipeline]:
        return list((await self.session.execute(select(Pipeline).order_by(Pipeline.name))).scalars())

    async def get(self, pipeline_id: uuid.UUID, *, for_update: bool = False) -> Pipeline | None:
        query = select(Pipeline).where(Pipeline.id == pipeline_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalars().first()

    async def by_name(self, name: str) -> Pipeline | None:
        return (await self.session.execute(
            select(Pipeline).where(func.lower(Pipeline.name) == name.lower()))).scalars().first()

    async def default(self) -> Pipeline | None:
        return (await self.session.execute(select(Pipeline).where(Pipeline.is_default))).scalars().first()

    async def get_stage(self, stage_id: uuid.UUID, *, live_only: bool = False) -> Stage | None:
        stage = await self.session.get(Stage, stage_id)
        if stage is not None and live_only and stage.archived_at is not None:
            return None
        return stage

    async def live_stages(self, pipeline_id: uuid.UUID) -> list[Stage]:
        return list((await self.session.execute(
            select(Stage).where(Stage.pipeline_id == pipeline_id, Stage.archived_at.is_(None))
            .order_by(Stage.position, Stage.created_at))).scalars())

    async def stage_of_kind(self, pipeline_id: uuid.UUID, kind: str) -> Stage | None:
        return (await self.session.execute(
            select(Stage).where(Stage.pipeline_id == pipeline_id, Stage.kind == kind, Stage.archived_at.is_(None))
            .order_by(Stage.position)
        )).scalars().first()

    async def first_open_stage(self, pipeline_id: uuid.UUID) -> Stage | None:
        return await self.stage_of_kind(pipeline_id, StageKind.OPEN)

    async def stage_names(self, pipeline_id: uuid.UUID) -> dict[uuid.UUID, str]:
        rows = await self.session.execute(select(Stage.id, Stage.name).where(Stage.pipeline_id == pipeline_id))
        return {row.id: row.name for row in rows}
