from fastapi import APIRouter, Response

from erp.exports import service
from erp.exports.service import Kind
from erp.policy import Reader
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW
from throughline_platform.downloads import content_disposition
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp/export", tags=["import-export"])


@router.get("/{kind}", response_class=Response,
            summary="Export invoices, payments, time entries or expenses as CSV (names, not ids), by date range",
            responses={200: {"content": {"text/csv": {}}}, **problem_responses(422)})
async def export_csv(kind: Kind, uow: ReadUoW, principal: Reader, date_from: BusinessDate | None = None,
                     date_to: BusinessDate | None = None) -> Response:
    content = await service.export(uow, kind, date_from, date_to)
    return Response(content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(service.filename(kind, date_from, date_to))})
