import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile

from erp.company.api import base_currency
from erp.fx import service
from erp.fx.repository import ExchangeRateRepository
from erp.fx.schemas import Conversion, ImportResult, RateIn, RateOut, RatePage
from erp.policy import ExchangeRateWriter, Reader
from throughline_events.types import BusinessDate, MoneyInput
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.problems import ProblemError

router = APIRouter(prefix="/api/erp/exchange-rates", tags=["exchange rates"])

MAX_CSV_BYTES = 2 * 1024 * 1024
Currency = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]


@router.get("", response_model=RatePage,
            summary="Exchange rates against the base currency, newest first (none are shipped: `note` says so)")
async def list_rates(uow: ReadUoW, principal: Reader, currency: Currency = None,
                     date_from: BusinessDate | None = None, date_to: BusinessDate | None = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> RatePage:
    base = await base_currency(uow.session)
    if base is None:
        return RatePage(base_currency=None, note="Set up the company profile and its base currency first. "
                        + service.NO_RATES_NOTE, items=[], total=0, limit=limit, offset=offset)
    items, total = await ExchangeRateRepository(uow.session).search(base, currency, date_from, date_to, limit, offset)
    note = service.NO_RATES_NOTE if total == 0 and currency is None and date_from is None and date_to is None \
        else None
    return RatePage(base_currency=base, note=note, items=[RateOut.model_validate(r) for r in items], total=total,
                    limit=limit, offset=offset)


@router.put("", response_model=RateOut,
            summary="Set a currency's rate for a day (replaces the rate that day had) (admin, finance)")
async def put_rate(body: RateIn, uow: UoW, principal: ExchangeRateWriter) -> RateOut:
    return RateOut.model_validate(await service.put_rate(uow, principal, body))


@router.post("/import", response_model=ImportResult, status_code=201,
             summary="Import rates from a CSV file (multipart field `file`; header date,currency,rate); all rows "
                     "or none (admin, finance)")
async def import_rates(file: Annotated[UploadFile, File(description="CSV: date,currency,rate")], uow: UoW,
                       principal: ExchangeRateWriter) -> ImportResult:
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise ProblemError(f"The file is larger than {MAX_CSV_BYTES} bytes.", status=413, title="Payload too large",
                           type_slug="payload-too-large")
    return await service.import_csv(uow, principal, data)


@router.get("/convert", response_model=Conversion,
            summary="An amount in the base currency at the rate of a day (422 without a rate)")
async def convert(uow: ReadUoW, principal: Reader, amount: Annotated[MoneyInput, Query()],
                  currency: Annotated[str, Query(pattern="^[A-Z]{3}$")], on_date: BusinessDate) -> Conversion:
    rate = await service.rate_on(uow.session, currency, on_date)
    return Conversion(amount=amount, currency=currency, on_date=on_date, base_currency=rate.base_currency,
                      rate=rate.rate, rate_date=rate.rate_date,
                      base_amount=await service.to_base(uow.session, amount, currency, on_date))


@router.delete("/{rate_id}", status_code=204, summary="Remove a rate (admin, finance)")
async def delete_rate(rate_id: uuid.UUID, uow: UoW, principal: ExchangeRateWriter) -> Response:
    await service.delete_rate(uow, rate_id)
    return Response(status_code=204)


