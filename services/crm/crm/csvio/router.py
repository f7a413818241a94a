from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from crm.csvio import service
from crm.csvio.service import Entity, ImportPreview, ImportResult, MappingProposal, OnMatch
from crm.policy import CsvExporter, CsvImporter
from crm.settings import get_settings
from throughline_messaging.deps import UoW
from throughline_platform.downloads import content_disposition
from throughline_platform.problems import ProblemError

router = APIRouter(prefix="/api/crm", tags=["import-export"])

_CSV_BODY: dict[str, Any] = {"requestBody": {"required": True,
                                             "content": {"text/csv": {"schema": {"type": "string"}}}}}
MappingParam = Annotated[str | None, Query(
    max_length=20_000, description='JSON object {"column in the file": "our field" or null}, as proposed by '
                                   "POST /api/crm/import/{entity}/mapping; without it the header must name our "
                                   "fields")]
OnMatchParam = Annotated[OnMatch, Query(
    description="A company whose domain or a contact whose email is known: update it with the row's non-empty "
                "cells, or refuse the row")]


class PayloadTooLarge(ProblemError):
    status, type_slug, title = 413, "payload-too-large", "Payload too large"


async def _body(request: Request) -> bytes:
    limit = get_settings().import_max_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The file is larger than {limit} bytes; split it.")
    return bytes(body)


@router.post("/import/{entity}", response_model=ImportResult,
             summary="Import a CSV file (body: text/csv); reports every row as created, updated or refused, never "
                     "half a row", openapi_extra=_CSV_BODY)
async def import_csv(entity: Entity, request: Request, uow: UoW, principal: CsvImporter,
                     all_or_nothing: Annotated[bool, Query(description="Refuse the whole file if a row fails")]
                     = False, mapping: MappingParam = None, on_match: OnMatchParam = "update") -> ImportResult:
    rows = service.parse(entity, await _body(request), service.mapping_from_json(mapping))
    return await service.import_rows(uow, entity, rows, principal, all_or_nothing=all_or_nothing, on_match=on_match)


@router.post("/import/{entity}/mapping", response_model=MappingProposal,
             summary="Propose which field each column of a CSV file holds (HubSpot's, Pipedrive's and our names)",
             openapi_extra=_CSV_BODY)
async def propose_mapping(entity: Entity, request: Request, principal: CsvImporter) -> MappingProposal:
    return service.propose_mapping(entity, await _body(request))


@router.post("/import/{entity}/preview", response_model=ImportPreview,
             summary="The import as it would go (first rows as imported, every row's problems); nothing is written",
             openapi_extra=_CSV_BODY)
async def preview_import(entity: Entity, request: Request, uow: UoW, principal: CsvImporter,
                         mapping: MappingParam = None, on_match: OnMatchParam = "update",
                         limit: Annotated[int, Query(ge=1, le=200)] = service.PREVIEW_ROWS) -> ImportPreview:
    rows = service.parse(entity, await _body(request), service.mapping_from_json(mapping))
    return await service.preview(uow, entity, rows, principal, on_match=on_match, limit=limit)


@router.get("/export/{entity}", summary="Export as CSV", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def export_csv(entity: Entity, uow: UoW, principal: CsvExporter) -> Response:
    content = await service.export(uow, entity)
    return Response(content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(f"{entity}.csv")})
