from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from crm.csvio import service
from crm.csvio.service import Entity, ImportResult
from crm.policy import CsvExporter, CsvImporter
from crm.settings import get_settings
from throughline_messaging.deps import UoW
from throughline_platform.downloads import content_disposition
from throughline_platform.problems import ProblemError

router = APIRouter(prefix="/api/crm", tags=["import-export"])


class PayloadTooLarge(ProblemError):
    status, type_slug, title = 413, "payload-too-large", "Payload too large"


@router.post("/import/{entity}", response_model=ImportResult,
             summary="Import a CSV file (body: text/csv); reports row-level errors, never half a row",
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def import_csv(entity: Entity, request: Request, uow: UoW, principal: CsvImporter,
                     all_or_nothing: Annotated[bool, Query(description="Refuse the whole file if a row fails")]
                     = False) -> ImportResult:
    limit = get_settings().import_max_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The file is larger than {limit} bytes; split it.")
    rows = service.parse(entity, bytes(body))
    return await service.import_rows(uow, entity, rows, principal, all_or_nothing=all_or_nothing)


@router.get("/export/{entity}", summary="Export as CSV", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def export_csv(entity: Entity, uow: UoW, principal: CsvExporter) -> Response:
    content = await service.export(uow, entity)
    return Response(content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(f"{entity}.csv")})
