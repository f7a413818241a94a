import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from crm.leads import service
from crm.leads.capture import LIMITER, capture_caller
from crm.leads.repository import AssignmentRuleRepository, LeadRepository
from crm.leads.schemas import (
    AssignmentRuleIn,
    AssignmentRuleOut,
    CaptureOut,
    ConvertIn,
    ConvertOut,
    LeadCaptureIn,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadPatch,
    LeadStatusName,
    Source,
)
from crm.policy import AssignmentRuleWriter, LeadWriter, Reader
from crm.settings import get_settings
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/crm/leads", tags=["leads"])
capture_router = APIRouter(prefix="/api/crm/lead-capture", tags=["leads"])
rules_router = APIRouter(prefix="/api/crm/assignment-rules", tags=["leads"])


@router.post("", status_code=201, response_model=LeadOut, summary="Capture a lead (emits lead.created)")
async def create_lead(body: LeadIn, uow: UoW, principal: LeadWriter) -> LeadOut:
    return LeadOut.model_validate(await service.create_lead(uow, body.model_dump(), created_by=principal.user_id))


@router.get("", response_model=LeadPage, summary="List leads with filters, sorting and pagination")
async def list_leads(uow: ReadUoW, principal: Reader,
                     q: Annotated[str | None, Query(max_length=200, description="name, email or company")] = None,
                     status: LeadStatusName | None = None,
                     owner_id: Annotated[str | None, Query(max_length=64)] = None,
                     source: Source | None = None,
                     min_score: Annotated[int | None, Query(ge=0, le=100)] = None,
                     sort: Literal["created_at", "score", "updated_at"] = "created_at",
                     order: Literal["asc", "desc"] = "desc",
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> LeadPage:
    items, total = await LeadRepository(uow.session).search(
        q=q, status=status, owner_id=owner_id, source=source, min_score=min_score, sort=sort,
        descending=order == "desc", limit=limit, offset=offset)
    return LeadPage(items=[LeadOut.model_validate(lead) for lead in items], total=total, limit=limit, offset=offset)


@router.get("/{lead_id}", response_model=LeadOut, summary="One lead with its explained score")
async def get_lead(lead_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> LeadOut:
    return LeadOut.model_validate(await service.get_lead(uow, lead_id))


@router.patch("/{lead_id}", response_model=LeadOut, summary="Change a lead: details, owner, status",
              responses=problem_responses(409, _409="The lead is converted"))
async def update_lead(lead_id: uuid.UUID, body: LeadPatch, uow: UoW, principal: LeadWriter) -> LeadOut:
    return LeadOut.model_validate(await service.update_lead(uow, lead_id, body))


@router.delete("/{lead_id}", status_code=204, summary="Soft-delete a lead")
async def delete_lead(lead_id: uuid.UUID, uow: UoW, principal: LeadWriter) -> Response:
    await service.delete_lead(uow, lead_id)
    return Response(status_code=204)


@router.post("/{lead_id}/convert", response_model=ConvertOut,
             summary="Convert to company + contact + optional deal in one transaction (lead.converted); idempotent",
             responses=problem_responses(409, _409="The lead is disqualified"))
async def convert_lead(lead_id: uuid.UUID, uow: UoW, principal: LeadWriter,
                       body: ConvertIn | None = None) -> ConvertOut:
    lead, already = await service.convert_lead(uow, lead_id, body or ConvertIn(), principal)
    assert lead.company_id is not None
    return ConvertOut(lead=LeadOut.model_validate(lead), company_id=lead.company_id, contact_id=lead.contact_id,
                      deal_id=lead.deal_id, already_converted=already)


@capture_router.post("", status_code=202, response_model=CaptureOut,
                     summary="Public lead capture for website forms (X-API-Key; rate-limited per key)")
async def capture_lead(body: LeadCaptureIn, request: Request, uow: UoW) -> CaptureOut:
    caller = capture_caller(request)
    LIMITER.take(caller, get_settings().lead_capture_per_minute)
    lead = await service.create_lead(uow, body.model_dump(), created_by=caller)
    return CaptureOut(id=lead.id, status=lead.status)


@rules_router.post("", status_code=201, response_model=AssignmentRuleOut, summary="Add a lead assignment rule")
async def create_rule(body: AssignmentRuleIn, uow: UoW, principal: AssignmentRuleWriter) -> AssignmentRuleOut:
    return AssignmentRuleOut.model_validate(await service.create_assignment_rule(uow, body))


@rules_router.get("", response_model=list[AssignmentRuleOut], summary="Assignment rules in the order they are tried")
async def list_rules(uow: ReadUoW, principal: Reader) -> list[AssignmentRuleOut]:
    return [AssignmentRuleOut.model_validate(r) for r in await AssignmentRuleRepository(uow.session).list()]


@rules_router.delete("/{rule_id}", status_code=204, summary="Remove an assignment rule")
async def delete_rule(rule_id: uuid.UUID, uow: UoW, principal: AssignmentRuleWriter) -> Response:
    await service.delete_assignment_rule(uow, rule_id)
    return Response(status_code=204)
