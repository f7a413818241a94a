from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile

from erp.company import service
from erp.company.schemas import CompanyIn, CompanyOut
from erp.policy import CompanyWriter, Reader
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp/settings/company", tags=["company"])

# Until the profile is set up (PUT), reading it or its logo, or changing the logo, answers 404.
_NOT_SET_UP = problem_responses(404, _404="The company profile is not set up yet")


@router.get("", response_model=CompanyOut, summary="Our company: the seller on every invoice (404 until set up)",
            responses=_NOT_SET_UP)
async def get_company(uow: ReadUoW, principal: Reader) -> CompanyOut:
    return CompanyOut.model_validate(await service.get_profile(uow))


@router.put("", response_model=CompanyOut,
            summary="Set the company profile (admin, finance): checked VAT ID, IBANs and BICs; issued invoices keep "
                    "the seller they were issued with")
async def put_company(body: CompanyIn, uow: UoW, principal: CompanyWriter) -> CompanyOut:
    return CompanyOut.model_validate(await service.put_profile(uow, body))


@router.put("/logo", response_model=CompanyOut, summary="Upload the logo: multipart field `file`, PNG or JPEG",
            responses=_NOT_SET_UP)
async def put_logo(file: Annotated[UploadFile, File()], uow: UoW, principal: CompanyWriter) -> CompanyOut:
    data = await file.read(service.LOGO_MAX_BYTES + 1)  # one byte more tells a file that is too large
    return CompanyOut.model_validate(await service.set_logo(uow, data))


@router.delete("/logo", response_model=CompanyOut, summary="Print no logo on new invoices",
               responses=_NOT_SET_UP)
async def delete_logo(uow: UoW, principal: CompanyWriter) -> CompanyOut:
    return CompanyOut.model_validate(await service.remove_logo(uow))


@router.get("/logo", response_class=Response, summary="The current logo",
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}, **_NOT_SET_UP})
async def get_logo(uow: ReadUoW, principal: Reader) -> Response:
    data, media_type = await service.logo(uow)
    return Response(data, media_type=media_type)
