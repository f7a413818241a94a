import uuid

from fastapi import APIRouter, Request

from gateway.customers.schemas import CustomerOverview
from gateway.customers.service import Fetcher, overview
from gateway.openapi_support import problem_responses
from gateway.policy import CustomerReader
from gateway.proxy.forward import upstream_headers

router = APIRouter(prefix="/api/customers", tags=["customers"])


@router.get("/{company_id}/overview", response_model=CustomerOverview,
            summary="One customer across CRM and ERP (any role); partial with warnings when a service is down",
            responses=problem_responses(401, 404, 422, 429, 503))
async def customer_overview(company_id: uuid.UUID, principal: CustomerReader, request: Request) -> CustomerOverview:
    headers = [(k, v) for k, v in upstream_headers(request, principal)
               if k in ("authorization", "x-request-id", "x-correlation-id", "traceparent")]
    return await overview(Fetcher(request.app.state.upstreams, headers), company_id)
