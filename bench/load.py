"""The load generator: one process, asyncio, aiohttp when installed (about twice as light as httpx per
request, which matters when the generator shares 2 cores with everything it measures), httpx otherwise.

Two shapes: a closed loop (N concurrent clients, each sending its next request when the last answered,
for a duration) and an open loop (requests started at a fixed rate, whatever the answers do).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

try:  # pragma: no cover - which one depends on the environment
    import aiohttp
except ImportError:  # pragma: no cover
    aiohttp = None  # type: ignore[assignment]

LIBRARY = "aiohttp" if aiohttp is not None else "httpx"



@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Http:
    """A pooled HTTP client on one base URL carrying a bearer token."""

    def __init__(self, base_url: str, token: str | None = None, pool: int = 256) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.pool = pool
        self._aiohttp: Any = None
        self._httpx: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Http:
        if aiohttp is not None:
            self._aiohttp = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool, limit_per_host=self.pool, force_close=False),
                headers=self.headers, timeout=aiohttp.ClientTimeout(total=60))
        else:
            self._httpx = httpx.AsyncClient(
                headers=self.headers, timeout=60,
                limits=httpx.Limits(max_connections=self.pool, max_keepalive_connections=self.pool))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._aiohttp is not None:
            await self._aiohttp.close()
        if self._httpx is not None:
            await self._httpx.aclose()

    async def request(self, method: str, path: str, *, json_body: Any = None,
                      params: dict[str, str] | None = None) -> Reply:
        url = self.base_url + path
        if self._aiohttp is not None:
            for attempt in (1, 2):
                try:
                    async with self._aiohttp.request(method, url, json=json_body, params=params) as response:
                        return Reply(response.status, await response.read())
                except aiohttp.ClientConnectionError:
                    # A kept-alive connection the server closed as we reused it: a GET is safe to send again.
                    if method != "GET" or attempt == 2:
                        raise
        assert self._httpx is not None
        reply = await self._httpx.request(method, url, json=json_body, params=params)
        return Reply(reply.status_code, reply.content)

    async def get(self, path: str, params: dict[str, str] | None = None) -> Reply:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Any = None) -> Reply:
        return await self.request("POST", path, json_body=body)

    def getter(self, path: str, params: dict[str, str] | None = None) -> Callable[[], Awaitable[int]]:
        """A call for the load loops: GET `path`, return the status."""
        async def call() -> int:
            return (await self.get(path, params)).status
        return call


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: int = 0
    elapsed: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0

    def pct(self, q: float) -> float:
        """The q-th percentile in milliseconds (nearest rank)."""
        return percentile(self.latencies, q) * 1000


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def closed_loop(call: Callable[[], Awaitable[int]], concurrency: int, duration: float,
                      max_requests: int | None = None) -> LoadResult:
    """`concurrency` clients calling `call` (which returns an HTTP status) back to back for `duration`."""
    result = LoadResult()
    started = time.perf_counter()
    deadline = started + duration
    budget = [max_requests if max_requests is not None else -1]

    async def client() -> None:
        while time.perf_counter() < deadline:
            if budget[0] == 0:
                return
            budget[0] -= 1
            t0 = time.perf_counter()
            try:
                status = await call()
            except StopAsyncIteration:
                return
            except Exception:
                result.errors += 1
                continue
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                result.latencies.append(time.perf_counter() - t0)
            else:
                result.errors += 1

    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


async def open_loop(start_one: Callable[[int], Coroutine[Any, Any, None]], rate: float, count: int) -> float:
    """Start `start_one(i)` at a fixed rate, `count` times; wait for all; return the achieved start rate."""
    started = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for i in range(count):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(start_one(i)))
    last_start = time.perf_counter() - started
    await asyncio.gather(*tasks)
    return (count - 1) / last_start if last_start > 0 and count > 1 else rate
