import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from crm.companies import service
from crm.companies.repository import CompanyRepository
from crm.companies.schemas import CompanyIn, CompanyOut, CompanyPage
from throughline_messaging.auth import require_roles
from throughline_messaging.deps import CurrentPrincipal, UoW

router = APIRouter(prefix="/api/crm/companies", tags=["companies"])

WRITERS = ("sales",)


@router.post("", status_code=201, response_model=CompanyOut, summary="Create a company")
async def create_company(body: CompanyIn, uow: UoW, principal: CurrentPrincipal) -> CompanyOut:
    require_roles(principal, *WRITERS)
    return CompanyOut.model_validate(await service.create_company(uow, body))


@router.get("", response_model=CompanyPage, summary="List and search companies")
async def list_companies(uow: UoW, principal: CurrentPrincipal,
                         q: Annotated[str | None, Query(max_length=200, description="name, domain or email")] = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50,
                         offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> CompanyPage:
    items, total = await CompanyRepository(uow.session).search(q, limit, offset)
    return CompanyPage(items=[CompanyOut.model_validate(c) for c in items], total=total, limit=limit, offset=offset)


@router.get("/{company_id}", response_model=CompanyOut, summary="One company")
async def get_company(company_id: uuid.UUID, uow: UoW, principal: CurrentPrincipal) -> CompanyOut:
    return CompanyOut.model_validate(await service.get_company(uow, company_id))
