"""Search across projects and invoices: each type's best hits, merged by score."""

from erp.search import repository
from erp.search.schemas import SearchHit, SearchResults, SearchType
from throughline_messaging.uow import UnitOfWork
from throughline_platform.search import prepare


async def search(uow: UnitOfWork, q: str, types: list[SearchType], limit: int) -> SearchResults:
    query = await prepare(uow.session, q)
    if query.empty:
        return SearchResults(words=[], hits=[])
    kinds = list(dict.fromkeys(types or list(SearchType)))
    found = [SearchHit(type=kind, id=id_, title=title, subtitle=subtitle, score=round(score, 6))
             for kind, id_, title, subtitle, score in await repository.hits(uow.session, kinds, query, limit)]
    found.sort(key=lambda h: (-h.score, h.title.lower(), str(h.id)))
    return SearchResults(words=query.words, hits=found)
