import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from crm.leads import capture, service
from crm.leads.repository import AssignmentRuleRepository, CaptureKeyRepository, LeadRepository
from crm.leads.schemas import (
    AssignmentRuleIn,
    AssignmentRuleOut,
    CaptureKeyCreated,
    CaptureKeyIn,
    CaptureKeyOut,
    CaptureKeyPatch,
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
from crm.policy import AssignmentRuleWriter, CaptureKeyWriter, LeadWriter, Reader
from crm.settings import get_settings
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.filters import check_range
from throughline_platform.openapi import problem_responses
from throughline_platform.problems import Forbidden, ProblemError
from throughline_platform.responses import OrjsonResponse

router = APIRouter(prefix="/api/crm/leads", tags=["leads"])
capture_router = APIRouter(prefix="/api/crm/lead-capture", tags=["leads"])
rules_router = APIRouter(prefix="/api/crm/assignment-rules", tags=["leads"])
keys_router = APIRouter(prefix="/api/crm/capture-keys", tags=["leads"])


@router.post("", status_code=201, response_model=LeadOut, summary="Capture a lead (emits lead.created)")
async def create_lead(body: LeadIn, uow: UoW, principal: LeadWriter) -> LeadOut:
    return LeadOut.model_validate(await service.create_lead(uow, body.model_dump(), created_by=principal.user_id))


@router.get("", response_model=LeadPage, summary="List leads with filters, sorting and pagination",
            responses=problem_responses(422, _422="A filter is invalid, or received_from lies after received_to"))
async def list_leads(uow: ReadUoW, principal: Reader,
                     q: Annotated[str | None, Query(max_length=200, description="name, email or company")] = None,
                     status: LeadStatusName | None = None,
                     owner_id: Annotated[str | None, Query(max_length=64)] = None,
                     source: Source | None = None,
                     min_score: Annotated[int | None, Query(ge=0, le=100)] = None,
                     received_from: Annotated[BusinessDate | None, Query(description="received on or after (UTC)")]
                     = None,
                     received_to: Annotated[BusinessDate | None, Query(description="received on or before (UTC)")]
                     = None,
                     sort: Literal["created_at", "score", "updated_at"] = "created_at",
                     order: Literal["asc", "desc"] = "desc",
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> LeadPage:
    check_range("received_from", received_from, "received_to", received_to)
    items, total = await LeadRepository(uow.session).search(
        q=q, status=status, owner_id=owner_id, source=source, min_score=min_score, sort=sort,
        descending=order == "desc", limit=limit, offset=offset, received_from=received_from,
        received_to=received_to)
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


# The endpoint reads the body itself (JSON or a form), so its documented shape is given here.
_CAPTURE_SCHEMA = LeadCaptureIn.model_json_schema()
_FORM_SCHEMA = {**_CAPTURE_SCHEMA, "properties": {
    **_CAPTURE_SCHEMA["properties"], "capture_key": {"type": "string", "description": "The capture key"}}}
_CAPTURE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _CAPTURE_SCHEMA},
    "application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA},
}}}


def _form_or_problem(*codes: int) -> dict[int | str, dict[str, Any]]:
    """A refused submission answers a problem document to JSON and a short HTML page to a form post."""
    documented = problem_responses(*codes)
    for response in documented.values():
        response["content"]["text/html"] = {"schema": {"type": "string"}}
    return documented


@capture_router.post(
    "", status_code=202, response_model=CaptureOut, openapi_extra=_CAPTURE_BODY,
    summary="Public lead capture for website forms: JSON or a form post (capture key; rate-limited per key)",
    description="JSON (key in `X-API-Key`) answers 202 `{id, status, duplicate}`. A form post "
                "(`application/x-www-form-urlencoded`, key in the `capture_key` field) answers a browser: a 303 to the "
                "key's thank-you URL or a short page; its errors are pages too. Pages may post only from the key's "
                "allowed origins. The same `submission_id` posted again creates no second lead.",
    responses={200: {"content": {"text/html": {}}, "description": "Form post received (no thank-you URL)"},
               303: {"description": "Form post received: on to the key's thank-you URL"},
               **_form_or_problem(400, 401, 403, 422, 429)})
async def capture_lead(request: Request, uow: UoW) -> Response:
    form = capture.is_form(request)
    origin = request.headers.get("origin")
    headers = capture.cors_headers(await capture.cors_origin(uow, origin))
    try:
        fields, raw_key = await capture.read_submission(request)
        caller = await capture.capture_caller(uow, request, raw_key)
        capture.check_origin(caller, origin)
        capture.LIMITER.take(caller.identity, get_settings().lead_capture_per_minute)
        result = await capture.capture_lead(uow, caller, capture.validated(fields))
    except (ProblemError, RequestValidationError) as exc:
        return capture.form_problem(exc, headers) if form else capture.json_problem(exc, headers)
    if form:
        return capture.thank_you(caller, headers)
    return OrjsonResponse(result.model_dump(mode="json"), status_code=202, headers=headers)


@capture_router.options("", status_code=204, include_in_schema=False)
async def capture_preflight(request: Request, uow: ReadUoW) -> Response:
    """CORS preflight of a page's script posting JSON: allowed for the origins some live capture key allows (the
    preflight carries no key; the post itself is checked against its key's origins)."""
    origin = await capture.cors_origin(uow, request.headers.get("origin"))
    if origin is None:
        return capture.json_problem(Forbidden("This origin may not post leads: no live capture key allows it.",
                                              type_slug="origin-not-allowed"), {"Vary": "Origin"})
    return Response(status_code=204, headers=capture.cors_headers(origin, preflight=True))


@keys_router.post("", status_code=201, response_model=CaptureKeyCreated,
                  summary="Create a capture key for a website form (the key is shown once)")
async def create_capture_key(body: CaptureKeyIn, uow: UoW, principal: CaptureKeyWriter) -> CaptureKeyCreated:
    key, raw = await capture.create_key(uow, body, principal.user_id)
    return CaptureKeyCreated(**CaptureKeyOut.model_validate(key).model_dump(), key=raw)


@keys_router.get("", response_model=list[CaptureKeyOut], summary="Capture keys, live ones first (never the keys)")
async def list_capture_keys(uow: ReadUoW, principal: Reader) -> list[CaptureKeyOut]:
    return [CaptureKeyOut.model_validate(k) for k in await CaptureKeyRepository(uow.session).list()]


@keys_router.patch("/{key_id}", response_model=CaptureKeyOut,
                   summary="Rename a capture key, change its allowed origins or thank-you URL")
async def update_capture_key(key_id: uuid.UUID, body: CaptureKeyPatch, uow: UoW,
                             principal: CaptureKeyWriter) -> CaptureKeyOut:
    return CaptureKeyOut.model_validate(await capture.update_key(uow, key_id, body))


@keys_router.delete("/{key_id}", status_code=204, summary="Revoke a capture key (posts with it are refused)")
async def revoke_capture_key(key_id: uuid.UUID, uow: UoW, principal: CaptureKeyWriter) -> Response:
    await capture.revoke_key(uow, key_id)
    return Response(status_code=204)


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
