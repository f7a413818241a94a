import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.pipelines.models import Pipeline, Stage


class PipelineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self) -> list[Pipeline]:
        return list((await self.session.execute(select(Pipeline).order_by(Pipeline.name))).scalars())

    async def default(self) -> Pipeline | None:
        return (await self.session.execute(select(Pipeline).where(Pipeline.is_default))).scalars().first()

    async def get_stage(self, stage_id: uuid.UUID) -> Stage | None:
        return await self.session.get(Stage, stage_id)

    async def stage_of_kind(self, pipeline_id: uuid.UUID, kind: str) -> Stage | None:
        return (await self.session.execute(
            select(Stage).where(Stage.pipeline_id == pipeline_id, Stage.kind == kind).order_by(Stage.position)
        )).scalars().first()

    async def first_open_stage(self, pipeline_id: uuid.UUID) -> Stage | None:
        return await self.stage_of_kind(pipeline_id, "open")
