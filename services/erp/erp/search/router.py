from typing import Annotated

from fastapi import APIRouter, Query

from erp.policy import Reader
from erp.search import service
from erp.search.schemas import SearchResults, SearchType
from throughline_messaging.deps import UoW
from throughline_platform.search import MAX_QUERY_LENGTH

router = APIRouter(prefix="/api/erp", tags=["search"])


@router.get("/search", response_model=SearchResults,
            summary="Ranked, typo-tolerant full-text search over projects and invoices (by number or client)")
async def search(uow: UoW, principal: Reader,
                 q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_LENGTH,
                                         description="what to look for; words match as prefixes, with typos")],
                 types: Annotated[list[SearchType] | None,
                                  Query(alias="type", description="the types to search (all when absent)")] = None,
                 limit: Annotated[int, Query(ge=1, le=50, description="the most hits of each type")] = 10,
                 ) -> SearchResults:
    return await service.search(uow, q, types or [], limit)
