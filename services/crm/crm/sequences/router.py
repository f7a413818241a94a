import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from crm.policy import Reader, SequenceEnroller, SequenceWriter
from crm.sequences import service
from crm.sequences.repository import EnrolmentRepository, SequenceRepository
from crm.sequences.schemas import (
    EnrolIn,
    EnrolmentOut,
    EnrolmentPage,
    EnrolmentStatusName,
    SequenceIn,
    SequenceOut,
    SequencePatch,
)
from crm.settings import get_settings
from throughline_messaging.deps import ReadUoW, UoW

router = APIRouter(prefix="/api/crm", tags=["sequences"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


async def _one(uow: UoW, sequence_id: uuid.UUID) -> SequenceOut:
    sequence = await service.get_sequence(uow, sequence_id)
    return SequenceOut(**(await service.sequence_view(uow, [sequence]))[0])


@router.post("/sequences", status_code=201, response_model=SequenceOut,
             summary="Create a sequence: ordered mail and task steps with delays in business days")
async def create_sequence(body: SequenceIn, uow: UoW, principal: SequenceWriter) -> SequenceOut:
    sequence = await service.create_sequence(uow, body, principal.user_id)
    return await _one(uow, sequence.id)


@router.get("/sequences", response_model=list[SequenceOut], summary="Sequences, by name, with enrolment counts")
async def list_sequences(uow: ReadUoW, principal: Reader) -> list[SequenceOut]:
    sequences = await SequenceRepository(uow.session).all()
    return [SequenceOut(**view) for view in await service.sequence_view(uow, sequences)]


@router.get("/sequences/{sequence_id}", response_model=SequenceOut, summary="One sequence and its steps")
async def get_sequence(sequence_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> SequenceOut:
    return await _one(uow, sequence_id)


@router.patch("/sequences/{sequence_id}", response_model=SequenceOut,
              summary="Change, pause or resume a sequence; `steps` replaces its steps")
async def update_sequence(sequence_id: uuid.UUID, body: SequencePatch, uow: UoW,
                          principal: SequenceWriter) -> SequenceOut:
    await service.update_sequence(uow, sequence_id, body)
    return await _one(uow, sequence_id)


@router.post("/sequences/{sequence_id}/enrolments", status_code=201, response_model=EnrolmentOut,
             summary="Enrol a contact or lead (you are the sender: your name, your daily limit)")
async def enrol(sequence_id: uuid.UUID, body: EnrolIn, uow: UoW, principal: SequenceEnroller) -> EnrolmentOut:
    enrolment = await service.enrol(uow, sequence_id, body, principal, get_settings())
    return EnrolmentOut(**(await service.enrolment_views(uow, [enrolment]))[0])


@router.get("/enrolments", response_model=EnrolmentPage, summary="Enrolments with the status of each step")
async def list_enrolments(uow: ReadUoW, principal: Reader, sequence_id: uuid.UUID | None = None,
                          contact_id: uuid.UUID | None = None, lead_id: uuid.UUID | None = None,
                          deal_id: uuid.UUID | None = None, status: EnrolmentStatusName | None = None,
                          limit: Limit = 50, offset: Offset = 0) -> EnrolmentPage:
    items, total = await EnrolmentRepository(uow.session).search(
        sequence_id=sequence_id, contact_id=contact_id, lead_id=lead_id, deal_id=deal_id, status=status, limit=limit,
        offset=offset)
    views = await service.enrolment_views(uow, items)
    return EnrolmentPage(items=[EnrolmentOut(**v) for v in views], total=total, limit=limit, offset=offset)


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentOut, summary="One enrolment and its steps")
async def get_enrolment(enrolment_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> EnrolmentOut:
    enrolment = await service.get_enrolment(uow, enrolment_id)
    return EnrolmentOut(**(await service.enrolment_views(uow, [enrolment]))[0])


@router.post("/enrolments/{enrolment_id}/stop", response_model=EnrolmentOut, summary="Stop an enrolment by hand")
async def stop(enrolment_id: uuid.UUID, uow: UoW, principal: SequenceEnroller) -> EnrolmentOut:
    enrolment = await service.stop_by_hand(uow, enrolment_id)
    return EnrolmentOut(**(await service.enrolment_views(uow, [enrolment]))[0])
