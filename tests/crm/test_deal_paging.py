"""Deal lists at volume: keyset cursors give the same rows as offsets, in every sort and direction (ties and
deals without a close date included); bad cursors are refused; totals above the exact limit are estimates."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from crm.deals import paging
from crm.deals.models import Deal
from devstack.stack import Stack
from tests.crm.helpers import suffix
from tests.support import Api


@pytest.fixture(scope="module")
def owner(sales: Api) -> str:
    """Seven deals of one owner: three share an amount (ties), two have no close date."""
    owner = f"pager-{suffix()}"
    company = sales.new_company()
    for n, (amount, close) in enumerate([("500.00", "2027-01-10"), ("900.00", None), ("500.00", "2027-03-01"),
                                         ("120.00", "2027-01-10"), ("500.00", None), ("75.00", "2026-12-24"),
                                         ("2000.00", "2027-02-02")]):
        sales.new_deal(company["id"], amount=amount, owner_id=owner, title=f"Pager {n}", expected_close_date=close)
    return owner


def _by_offset(api: Api, params: dict[str, Any]) -> list[str]:
    page = api.ok("GET", "/api/crm/deals", params={**params, "limit": 200})
    assert page["total"] == len(page["items"]) and page["total_is_estimate"] is False
    return [d["id"] for d in page["items"]]


def _by_cursor(api: Api, params: dict[str, Any], limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    for _ in range(20):
        page = api.ok("GET", "/api/crm/deals", params={**params, "limit": limit,
                                                       **({"cursor": cursor} if cursor else {})})
        ids += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the cursor never reached the end")


@pytest.mark.parametrize("sort", ["created_at", "amount", "expected_close_date", "title", "updated_at"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_cursor_pages_match_offset_order(sales: Api, owner: str, sort: str, order: str) -> None:
    params = {"owner_id": owner, "sort": sort, "order": order}
    expected = _by_offset(sales, params)
    assert len(expected) == 7
    for limit in (1, 2, 3):
        assert _by_cursor(sales, params, limit) == expected, (sort, order, limit)


def test_offset_pages_and_nulls_last(sales: Api, owner: str) -> None:
    params = {"owner_id": owner, "sort": "expected_close_date", "order": "desc"}
    everything = _by_offset(sales, params)
    second = sales.ok("GET", "/api/crm/deals", params={**params, "limit": 2, "offset": 2})
    assert [d["id"] for d in second["items"]] == everything[2:4] and second["total"] == 7
    last = sales.ok("GET", "/api/crm/deals", params={**params, "limit": 2, "offset": 5})
    assert [d["expected_close_date"] for d in last["items"]] == [None, None] and last["next_cursor"]
    tail = sales.ok("GET", "/api/crm/deals", params={**params, "limit": 2, "cursor": last["next_cursor"]})
    assert tail["items"] == [] and tail["next_cursor"] is None


def test_bad_cursors_are_refused(sales: Api, owner: str) -> None:
    page = sales.ok("GET", "/api/crm/deals", params={"owner_id": owner, "sort": "amount", "limit": 2})
    cursor = page["next_cursor"]
    for params in ({"cursor": "not-a-cursor"}, {"cursor": cursor, "sort": "title"},
                   {"cursor": cursor, "sort": "amount", "order": "asc"}, {"cursor": cursor, "sort": "amount",
                                                                          "offset": 2}):
        response = sales.get("/api/crm/deals", params={"owner_id": owner, **params})
        assert response.status_code == 422, params
        assert response.json()["status"] == 422


@pytest.fixture
async def session(stack: Stack) -> AsyncIterator[AsyncSession]:
    engine = create_async_engine(stack.database_urls["crm"])
    try:
        async with async_sessionmaker(engine)() as s:
            yield s
    finally:
        await engine.dispose()


async def test_totals_above_the_exact_limit_are_estimates(session: AsyncSession, owner: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    matching = select(Deal).where(Deal.owner_id == owner)
    assert await paging.total_of(session, matching) == (7, False)
    monkeypatch.setattr(paging, "EXACT_TOTAL_UP_TO", 3)
    total, estimated = await paging.total_of(session, matching)
    assert estimated is True and total >= 4  # never below what was counted (4 = the limit + 1)
