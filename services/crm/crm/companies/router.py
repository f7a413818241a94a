import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from crm.companies import service
from crm.companies.repository import CompanyRepository, ContactRepository
from crm.companies.schemas import (
    CompanyIn,
    CompanyOut,
    CompanyPage,
    CompanyPatch,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
)
from crm.policy import CompanyWriter, ContactWriter, Reader
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import links, problem_responses

router = APIRouter(prefix="/api/crm/companies", tags=["companies"])
contacts_router = APIRouter(prefix="/api/crm/contacts", tags=["contacts"])

AllowDuplicate = Annotated[bool, Query(description="Create even if the domain or email is already known "
                                                    "(the record is flagged with duplicate_of)")]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.post("", status_code=201, response_model=CompanyOut, summary="Create a company",
             responses={**problem_responses(409, _409="A company has this domain or email (allow_duplicate=true: "
                                                      "create it)"),
                        201: links("company_id", ("GET", "/api/crm/companies/{company_id}"),
                                   ("PATCH", "/api/crm/companies/{company_id}"),
                                   ("DELETE", "/api/crm/companies/{company_id}"),
                                   ("GET", "/api/crm/companies/{company_id}/timeline"))})
async def create_company(body: CompanyIn, uow: UoW, principal: CompanyWriter,
                         allow_duplicate: AllowDuplicate = False) -> CompanyOut:
    return CompanyOut.model_validate(await service.create_company(uow, body, allow_duplicate=allow_duplicate))


@router.get("", response_model=CompanyPage, summary="List and search companies")
async def list_companies(uow: ReadUoW, principal: Reader,
                         q: Annotated[str | None, Query(max_length=200, description="name, domain or email")] = None,
                         owner_id: Annotated[str | None, Query(max_length=64)] = None,
                         duplicates: Annotated[bool, Query(description="only records flagged as duplicates")] = False,
                         limit: Limit = 50, offset: Offset = 0) -> CompanyPage:
    items, total = await CompanyRepository(uow.session).search(q, limit, offset, duplicates_only=duplicates,
                                                               owner_id=owner_id)
    return CompanyPage(items=[CompanyOut.model_validate(c) for c in items], total=total, limit=limit, offset=offset)


@router.get("/{company_id}", response_model=CompanyOut, summary="One company")
async def get_company(company_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> CompanyOut:
    return CompanyOut.model_validate(await service.get_company(uow, company_id))


@router.patch("/{company_id}", response_model=CompanyOut, summary="Change a company (emits company.updated)",
              responses=problem_responses(409, _409="Another company has this domain or email"))
async def update_company(company_id: uuid.UUID, body: CompanyPatch, uow: UoW,
                         principal: CompanyWriter) -> CompanyOut:
    changes = body.model_dump(exclude_unset=True)
    return CompanyOut.model_validate(await service.update_company(uow, company_id, changes))


@router.delete("/{company_id}", status_code=204, summary="Soft-delete a company (company.updated, deleted=true)",
               responses=problem_responses(409, _409="The company has open deals"))
async def delete_company(company_id: uuid.UUID, uow: UoW, principal: CompanyWriter) -> Response:
    await service.delete_company(uow, company_id)
    return Response(status_code=204)


@contacts_router.post("", status_code=201, response_model=ContactOut, summary="Create a contact",
                      responses=problem_responses(409,
                                                  _409="A contact has this email (allow_duplicate=true: create it)"))
async def create_contact(body: ContactIn, uow: UoW, principal: ContactWriter,
                         allow_duplicate: AllowDuplicate = False) -> ContactOut:
    return ContactOut.model_validate(await service.create_contact(uow, body, allow_duplicate=allow_duplicate))


@contacts_router.get("", response_model=ContactPage, summary="List and search contacts")
async def list_contacts(uow: ReadUoW, principal: Reader,
                        q: Annotated[str | None, Query(max_length=200, description="name, email or phone")] = None,
                        company_id: uuid.UUID | None = None,
                        duplicates: Annotated[bool, Query(description="only records flagged as duplicates")] = False,
                        limit: Limit = 50, offset: Offset = 0) -> ContactPage:
    items, total = await ContactRepository(uow.session).search(q, company_id, limit, offset,
                                                               duplicates_only=duplicates)
    return ContactPage(items=[ContactOut.model_validate(c) for c in items], total=total, limit=limit, offset=offset)


@contacts_router.get("/{contact_id}", response_model=ContactOut, summary="One contact")
async def get_contact(contact_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> ContactOut:
    return ContactOut.model_validate(await service.get_contact(uow, contact_id))


@contacts_router.patch("/{contact_id}", response_model=ContactOut, summary="Change a contact (emits contact.updated)",
                       responses=problem_responses(409, _409="Another contact has this email"))
async def update_contact(contact_id: uuid.UUID, body: ContactPatch, uow: UoW,
                         principal: ContactWriter) -> ContactOut:
    return ContactOut.model_validate(await service.update_contact(uow, contact_id, body.model_dump(exclude_unset=True)))


@contacts_router.delete("/{contact_id}", status_code=204,
                        summary="Soft-delete a contact (contact.updated, deleted=true)")
async def delete_contact(contact_id: uuid.UUID, uow: UoW, principal: ContactWriter) -> Response:
    await service.delete_contact(uow, contact_id)
    return Response(status_code=204)
