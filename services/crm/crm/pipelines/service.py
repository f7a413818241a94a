"""Pipeline rules: open stages in order, then exactly one won (100 %) and one lost (0 %) stage; names unique;
a stage with open deals cannot be removed; removed stages are archived so history keeps its names."""

import uuid
from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession

from crm.db import utcnow
from crm.pipelines.models import Pipeline, Stage, StageKind
from crm.pipelines.repository import PipelineRepository
from crm.pipelines.schemas import NewStageIn, PipelineIn, PipelinePatch, StagePatch
from crm.ports import Port
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable

# Asked before a stage is archived. Deals sit in stages, so the deals package sits above this one and answers
# through the port (crm/ports.py).
open_deals_in_stage: Port[[AsyncSession, uuid.UUID], Awaitable[int]] = Port("how many open deals are in a stage")


async def create_pipeline(uow: UnitOfWork, data: PipelineIn) -> Pipeline:
    repo = PipelineRepository(uow.session)
    if await repo.by_name(data.name) is not None:
        raise Conflict(f"A pipeline named {data.name!r} exists already.", type_slug="duplicate-pipeline")
    if data.is_default:
        await _clear_default(repo)
    now = utcnow()
    pipeline = Pipeline(id=uuid.uuid4(), name=data.name, is_default=data.is_default, created_at=now, updated_at=now)
    repo.add(pipeline)
    await uow.session.flush()
    ordered = [s for kind in StageKind for s in data.stages if s.kind == kind]  # open, then won, then lost
    for position, stage in enumerate(ordered, start=1):
        repo.add_stage(Stage(id=uuid.uuid4(), pipeline_id=pipeline.id, name=stage.name, position=position,
                             probability=stage.probability, kind=stage.kind, created_at=now, updated_at=now))
    await uow.commit()
    return await get_pipeline(uow, pipeline.id)


async def get_pipeline(uow: UnitOfWork, pipeline_id: uuid.UUID) -> Pipeline:
    uow.session.expire_all()
    pipeline = await PipelineRepository(uow.session).get(pipeline_id)
    if pipeline is None:
        raise NotFound(f"Pipeline {pipeline_id} does not exist.")
    return pipeline


async def update_pipeline(uow: UnitOfWork, pipeline_id: uuid.UUID, data: PipelinePatch) -> Pipeline:
    repo = PipelineRepository(uow.session)
    pipeline = await repo.get(pipeline_id, for_update=True)
    if pipeline is None:
        raise NotFound(f"Pipeline {pipeline_id} does not exist.")
    if data.name is not None and data.name.lower() != pipeline.name.lower():
        if await repo.by_name(data.name) is not None:
            raise Conflict(f"A pipeline named {data.name!r} exists already.", type_slug="duplicate-pipeline")
        pipeline.name = data.name
    if data.is_default and not pipeline.is_default:
        await _clear_default(repo)
        pipeline.is_default = True
    pipeline.updated_at = utcnow()
    await uow.commit()
    return await get_pipeline(uow, pipeline_id)


async def _clear_default(repo: PipelineRepository) -> None:
    current = await repo.default()
    if current is not None:
        current.is_default = False
        await repo.session.flush()


async def add_stage(uow: UnitOfWork, pipeline_id: uuid.UUID, data: NewStageIn) -> Pipeline:
    repo = PipelineRepository(uow.session)
    pipeline = await repo.get(pipeline_id, for_update=True)
    if pipeline is None:
        raise NotFound(f"Pipeline {pipeline_id} does not exist.")
    stages = await repo.live_stages(pipeline_id)
    if any(s.name.lower() == data.name.lower() for s in stages):
        raise Conflict(f"The pipeline has a stage named {data.name!r} already.", type_slug="duplicate-stage")
    now = utcnow()
    stage = Stage(id=uuid.uuid4(), pipeline_id=pipeline_id, name=data.name, position=0,
                  probability=data.probability, kind=StageKind.OPEN, created_at=now, updated_at=now)
    repo.add_stage(stage)
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    index = len(open_stages) if data.position is None else min(data.position - 1, len(open_stages))
    open_stages.insert(index, stage)
    _renumber(open_stages, [s for s in stages if s.kind != StageKind.OPEN])
    await uow.commit()
    return await get_pipeline(uow, pipeline_id)


async def update_stage(uow: UnitOfWork, pipeline_id: uuid.UUID, stage_id: uuid.UUID, data: StagePatch) -> Pipeline:
    repo = PipelineRepository(uow.session)
    if await repo.get(pipeline_id, for_update=True) is None:
        raise NotFound(f"Pipeline {pipeline_id} does not exist.")
    stages = await repo.live_stages(pipeline_id)
    stage = next((s for s in stages if s.id == stage_id), None)
    if stage is None:
        raise NotFound(f"Stage {stage_id} is not a stage of pipeline {pipeline_id}.")
    if data.name is not None and data.name.lower() != stage.name.lower():
        if any(s.name.lower() == data.name.lower() for s in stages):
            raise Conflict(f"The pipeline has a stage named {data.name!r} already.", type_slug="duplicate-stage")
        stage.name = data.name
    if data.probability is not None:
        if stage.kind != StageKind.OPEN and data.probability != (100 if stage.kind == StageKind.WON else 0):
            raise Unprocessable(f"probability: the {stage.kind} stage's probability is fixed.")
        stage.probability = data.probability
    if data.position is not None:
        if stage.kind != StageKind.OPEN:
            raise Unprocessable("position: the won and lost stages stay at the end of the pipeline.")
        open_stages = [s for s in stages if s.kind == StageKind.OPEN and s.id != stage.id]
        open_stages.insert(min(data.position - 1, len(open_stages)), stage)
        _renumber(open_stages, [s for s in stages if s.kind != StageKind.OPEN])
    stage.updated_at = utcnow()
    await uow.commit()
    return await get_pipeline(uow, pipeline_id)


async def archive_stage(uow: UnitOfWork, pipeline_id: uuid.UUID, stage_id: uuid.UUID) -> Pipeline:
    repo = PipelineRepository(uow.session)
    if await repo.get(pipeline_id, for_update=True) is None:
        raise NotFound(f"Pipeline {pipeline_id} does not exist.")
    stages = await repo.live_stages(pipeline_id)
    stage = next((s for s in stages if s.id == stage_id), None)
    if stage is None:
        raise NotFound(f"Stage {stage_id} is not a stage of pipeline {pipeline_id}.")
    if stage.kind != StageKind.OPEN:
        raise Conflict("The won and lost stages cannot be removed.", type_slug="stage-required")
    if len([s for s in stages if s.kind == StageKind.OPEN]) == 1:
        raise Conflict("A pipeline keeps at least one open stage.", type_slug="stage-required")
    in_stage = await open_deals_in_stage(uow.session, stage.id)
    if in_stage:
        raise Conflict(f"{in_stage} open deals are in this stage; move them first.", type_slug="stage-in-use",
                       open_deals=in_stage)
    stage.archived_at = stage.updated_at = utcnow()
    _renumber([s for s in stages if s.kind == StageKind.OPEN and s.id != stage.id],
              [s for s in stages if s.kind != StageKind.OPEN])
    await uow.commit()
    return await get_pipeline(uow, pipeline_id)


def _renumber(open_stages: list[Stage], closing: list[Stage]) -> None:
    closing = sorted(closing, key=lambda s: 0 if s.kind == StageKind.WON else 1)
    for position, stage in enumerate([*open_stages, *closing], start=1):
        stage.position = position
