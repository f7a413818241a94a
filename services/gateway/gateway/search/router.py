from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from gateway.customers.service import Fetcher
from gateway.openapi_support import problem_responses
from gateway.policy import SEARCH_TYPES, Searcher, searchable_types
from gateway.proxy.forward import upstream_headers
from gateway.search import service
from gateway.search.schemas import SearchResults

router = APIRouter(prefix="/api", tags=["search"])

TypeName = Literal["company", "contact", "deal", "lead", "project", "invoice"]


@router.get("/search", response_model=SearchResults,
            summary="Ranked, typo-tolerant search across companies, contacts, deals, leads, projects and invoices "
                    "(only the types the caller's role may read)",
            responses=problem_responses(401, 403, 422, 429, 503))
async def search(request: Request, principal: Searcher,
                 q: Annotated[str, Query(min_length=1, max_length=200,
                                         description="what to look for: words match as prefixes, and with a typo "
                                                     "or two (one from 3 letters, two from 8)")],
                 types: Annotated[list[TypeName] | None,
                                  Query(alias="type", description="search only these types (repeatable); "
                                                                  "types the role may not read are left out")] = None,
                 limit: Annotated[int, Query(ge=1, le=20, description="the most hits of each type")] = 5,
                 ) -> SearchResults:
    allowed = searchable_types(principal.role)
    wanted = [t for t in SEARCH_TYPES if t in allowed and (not types or t in types)]
    headers = [(k, v) for k, v in upstream_headers(request, principal)
               if k in ("authorization", "x-request-id", "x-correlation-id", "traceparent")]
    return await service.search(Fetcher(request.app.state.upstreams, headers), q, wanted, limit)
