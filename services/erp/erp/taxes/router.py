import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from erp.policy import TaxRateWriter, WorkReader
from erp.taxes import service
from erp.taxes.repository import TaxRateRepository
from erp.taxes.schemas import TaxRateIn, TaxRateOut, TaxRatePage, TaxRatePatch
from throughline_messaging.deps import ReadUoW, UoW

router = APIRouter(prefix="/api/erp/tax-rates", tags=["tax rates"])


@router.get("", response_model=TaxRatePage, summary="Tax rates (filter `active`); every role reads them: a member "
                                                    "chooses the VAT of a receipt")
async def list_tax_rates(uow: ReadUoW, principal: WorkReader, active: bool | None = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 100,
                         offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> TaxRatePage:
    items, total = await TaxRateRepository(uow.session).search(active, limit, offset)
    return TaxRatePage(items=[TaxRateOut.model_validate(r) for r in items], total=total, limit=limit, offset=offset)


@router.post("", status_code=201, response_model=TaxRateOut, summary="Add a tax rate (admin, finance)")
async def create_tax_rate(body: TaxRateIn, uow: UoW, principal: TaxRateWriter) -> TaxRateOut:
    return TaxRateOut.model_validate(await service.create_rate(uow, body))


@router.get("/{rate_id}", response_model=TaxRateOut, summary="One tax rate")
async def get_tax_rate(rate_id: uuid.UUID, uow: ReadUoW, principal: WorkReader) -> TaxRateOut:
    return TaxRateOut.model_validate(await service.get_rate(uow, rate_id))


@router.patch("/{rate_id}", response_model=TaxRateOut,
              summary="Change, archive (`active: false`) or make a rate the default; lines already written keep "
                      "the tax they were written with")
async def update_tax_rate(rate_id: uuid.UUID, body: TaxRatePatch, uow: UoW, principal: TaxRateWriter) -> TaxRateOut:
    return TaxRateOut.model_validate(await service.update_rate(uow, rate_id, body))
