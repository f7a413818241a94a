"""GET /api/search: the CRM's and the ERP's search endpoints asked at once (the gateway's pooled upstream clients),
their ranked hits merged by score, each with its web app link; only the types the caller's role may read
(gateway/policy.py `SEARCH_TYPES`) are asked for at all."""

import asyncio
from typing import Any
from urllib.parse import urlencode

from gateway.customers.schemas import OverviewWarning
from gateway.customers.service import Fetcher, PartFailed
from gateway.search.schemas import SearchHit, SearchResults
from throughline_platform.problems import ProblemError

OWNERS = {"company": "crm", "contact": "crm", "deal": "crm", "lead": "crm", "project": "erp", "invoice": "erp"}
LINKS = {"company": "#/companies/{}", "contact": "#/contacts/{}", "deal": "#/deals/{}", "lead": "#/leads/{}",
         "project": "#/projects/{}", "invoice": "#/invoices/{}"}


async def search(fetcher: Fetcher, q: str, types: list[str], per_type: int) -> SearchResults:
    warnings: list[OverviewWarning] = []

    async def ask(upstream: str, kinds: list[str]) -> Any:
        if not kinds:
            return None
        query = urlencode([("q", q), ("limit", str(per_type)), *(("type", k) for k in kinds)])
        try:
            return await fetcher.get(upstream, f"/api/{upstream}/search?{query}")
        except PartFailed as exc:
            warnings.append(OverviewWarning(upstream=exc.upstream, part="search", detail=exc.detail))
            return None

    asked = {up: [k for k in types if OWNERS[k] == up] for up in ("crm", "erp")}
    answers = await asyncio.gather(*(ask(up, kinds) for up, kinds in asked.items()))
    if warnings and len(warnings) == sum(1 for kinds in asked.values() if kinds):
        raise ProblemError("No service could answer the search.", status=503, title="Upstream unavailable",
                           type_slug="upstream-unavailable", upstream=",".join(w.upstream for w in warnings))
    hits: list[SearchHit] = []
    words: list[str] = []
    for answer in answers:
        if not isinstance(answer, dict):
            continue
        words = words or [str(w) for w in answer.get("words", [])]
        for hit in answer.get("hits", []):
            kind = hit.get("type")
            if kind not in types:  # never more than was asked for
                continue
            hits.append(SearchHit(type=kind, id=hit["id"], title=hit.get("title", ""),
                                  subtitle=hit.get("subtitle", ""), link=LINKS[kind].format(hit["id"]),
                                  score=float(hit.get("score", 0))))
    hits.sort(key=lambda h: (-h.score, h.title.lower(), str(h.id)))
    return SearchResults(q=q, words=words, types=types, hits=hits,
                         partial=bool(warnings), warnings=warnings)
