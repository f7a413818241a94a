import uuid

from fastapi import APIRouter

from crm.pipelines import service
from crm.pipelines.repository import PipelineRepository
from crm.pipelines.schemas import NewStageIn, PipelineIn, PipelineOut, PipelinePatch, StagePatch
from crm.policy import PipelineWriter, Reader
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/crm/pipelines", tags=["pipelines"])


@router.get("", response_model=list[PipelineOut], summary="Pipelines with their stages in order")
async def list_pipelines(uow: ReadUoW, principal: Reader) -> list[PipelineOut]:
    return [PipelineOut.model_validate(p) for p in await PipelineRepository(uow.session).all()]


@router.post("", status_code=201, response_model=PipelineOut, summary="Create a pipeline with its stages",
             responses=problem_responses(409, _409="A pipeline of this name exists"))
async def create_pipeline(body: PipelineIn, uow: UoW, principal: PipelineWriter) -> PipelineOut:
    return PipelineOut.model_validate(await service.create_pipeline(uow, body))


@router.get("/{pipeline_id}", response_model=PipelineOut, summary="One pipeline with its stages")
async def get_pipeline(pipeline_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> PipelineOut:
    return PipelineOut.model_validate(await service.get_pipeline(uow, pipeline_id))


@router.patch("/{pipeline_id}", response_model=PipelineOut, summary="Rename a pipeline or make it the default",
              responses=problem_responses(409, _409="A pipeline of this name exists"))
async def update_pipeline(pipeline_id: uuid.UUID, body: PipelinePatch, uow: UoW,
                          principal: PipelineWriter) -> PipelineOut:
    return PipelineOut.model_validate(await service.update_pipeline(uow, pipeline_id, body))


@router.post("/{pipeline_id}/stages", status_code=201, response_model=PipelineOut, summary="Add an open stage",
             responses=problem_responses(409, _409="A stage of this name exists in the pipeline"))
async def add_stage(pipeline_id: uuid.UUID, body: NewStageIn, uow: UoW, principal: PipelineWriter) -> PipelineOut:
    return PipelineOut.model_validate(await service.add_stage(uow, pipeline_id, body))


@router.patch("/{pipeline_id}/stages/{stage_id}", response_model=PipelineOut,
              summary="Rename, re-weight or move a stage",
              responses=problem_responses(409, _409="A stage of this name exists in the pipeline"))
async def update_stage(pipeline_id: uuid.UUID, stage_id: uuid.UUID, body: StagePatch, uow: UoW,
                       principal: PipelineWriter) -> PipelineOut:
    return PipelineOut.model_validate(await service.update_stage(uow, pipeline_id, stage_id, body))


@router.delete("/{pipeline_id}/stages/{stage_id}", response_model=PipelineOut,
               summary="Remove an open stage without open deals (archived: history keeps it)",
               responses=problem_responses(409, _409="Open deals are in it, or it is the won, lost or last open stage"))
async def archive_stage(pipeline_id: uuid.UUID, stage_id: uuid.UUID, uow: UoW,
                        principal: PipelineWriter) -> PipelineOut:
    return PipelineOut.model_validate(await service.archive_stage(uow, pipeline_id, stage_id))
