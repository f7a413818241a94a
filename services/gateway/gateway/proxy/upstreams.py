"""One pooled HTTP client per upstream service, with retries for idempotent requests and a circuit breaker.

Failures are named after the upstream as problem documents: 503 when it cannot be reached (or its circuit is
open), 504 when it does not answer in time, 502 when the connection breaks mid-answer.

The client is aiohttp rather than httpx: the gateway forwards every API call, and profiling found a quarter of
its CPU in httpx/httpcore (an import lookup per request, anyio socket attribute calls, pool scans); aiohttp's
C parser and plain asyncio streams cost a fraction of that per request.
"""

import asyncio
import contextlib
import math
import select
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import structlog
from aiohttp.connector import Connection
from multidict import CIMultiDictProxy
from yarl import URL

from throughline_platform.problems import ProblemError

log = structlog.get_logger(__name__)

KEEPALIVE_SECONDS = 4.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Headers aiohttp would otherwise add on its own: the gateway passes on what the caller sent, nothing more (an
# invented Accept-Encoding could make a service compress for a caller that never asked for it).
_NO_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


class UpstreamError(ProblemError):
    """A problem caused by an upstream (502/503/504); `upstream` names it."""

    def __init__(self, upstream: str, status: int, detail: str, *, title: str, type_slug: str,
                 retry_after: int | None = None) -> None:
        super().__init__(detail, status=status, title=title, type_slug=type_slug, upstream=upstream)
        self.upstream = upstream
        self.retry_after = retry_after


class CircuitBreaker:
    """Closed -> open after `threshold` consecutive failures -> half-open after `cooldown` seconds: one trial
    request goes through; its success closes the circuit, its failure opens it again."""

    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self.opened_at >= self.cooldown else "open"

    def retry_after(self) -> int:
        if self.opened_at is None:
            return 0
        return max(1, math.ceil(self.cooldown - (self._clock() - self.opened_at)))

    def allow(self) -> bool:
        """May a request go out now? In half-open state only one trial at a time."""
        if self.opened_at is None:  # closed: the hot path, no clock read
            return True
        if self.state == "half_open" and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_running = False

    def release_trial(self) -> None:
        self._trial_running = False

    def record_failure(self) -> None:
        self.failures += 1
        if self._trial_running or self.failures >= self.threshold:
            if self.opened_at is None or self._trial_running:
                log.warning("circuit_opened", failures=self.failures)
            self.opened_at = self._clock()
        self._trial_running = False


def _closed_by_peer(connection: Connection) -> bool:
    """Has the service closed this idle pooled connection (or sent something unasked on it) already?

    The event loop learns of a closed connection only at its next poll; until then the pool hands the connection
    out as healthy, the request is written into it and fails, and a POST cannot be sent again (it may have reached
    the service). An idle HTTP/1.1 connection has nothing to read, so one that is readable now carries an end of
    file, a reset or garbage: it is dropped before a byte of the request is written. One poll(2) with no wait,
    nothing read (urllib3 checks its pooled connections the same way)."""
    transport = connection.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return transport is None
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


class LiveConnectionsConnector(aiohttp.TCPConnector):
    """A connection pool that never sends a request on a connection the service has already closed: such a
    connection is closed and another one taken (from the pool, or a new one). This is the "retry" for requests that
    never left: it happens before anything is written, so it is safe for a POST too. A connection that closes while
    the request is being written, or after, may have carried the request to the service: that one is not retried
    (except for idempotent methods, see `Upstream.open`)."""

    dropped = 0  # connections found closed before use, in this process (tests and logs read it)

    async def connect(self, req: aiohttp.ClientRequest, traces: list[Any],
                      timeout: aiohttp.ClientTimeout) -> Connection:  # noqa: ASYNC109 (aiohttp's signature)
        connection = await super().connect(req, traces, timeout)
        while _closed_by_peer(connection):
            connection.close()  # not back to the pool
            LiveConnectionsConnector.dropped += 1
            connection = await super().connect(req, traces, timeout)
        return connection


@dataclass
class UpstreamResponse:
    """A whole answer, read into memory (for the gateway's own calls: overview parts, OpenAPI documents)."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes

    def json(self) -> Any:
        return orjson.loads(self.content)


@dataclass
class Upstream:
    """One service behind the gateway. The aiohttp session is made on first use: it must be created inside the
    running event loop, which does not exist yet when the app is built."""

    name: str
    base_url: str
    timeout: float = 10.0
    connect_timeout: float = 2.0
    breaker: CircuitBreaker = field(default_factory=lambda: CircuitBreaker(5, 10.0))
    retries: int = 2
    retry_backoff: float = 0.05
    max_connections: int = 200
    keepalive_seconds: float = KEEPALIVE_SECONDS
    trace_configs: list[aiohttp.TraceConfig] = field(default_factory=list)  # tests count attempts with these
    _session: aiohttp.ClientSession | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._base = self.base_url.rstrip("/")

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=LiveConnectionsConnector(
                    limit=self.max_connections, limit_per_host=0,
                    # Idle connections are dropped before the services' (uvicorn's) 5 s keep-alive timeout: the
                    # client must close first, or a request sent on a connection the service is closing fails
                    # (found by the benchmark).
                    keepalive_timeout=self.keepalive_seconds),
                # `connect` covers waiting for a pooled connection too; `sock_read` is the time allowed without a
                # byte from the service (so a long stream is fine while it keeps sending).
                timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_connect=self.connect_timeout,
                                              sock_read=self.timeout),
                skip_auto_headers=_NO_AUTO_HEADERS, auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # never keep one caller's cookies for the next
                trace_configs=self.trace_configs or None,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def open(self, method: str, target: str, *, headers: Iterable[tuple[str, str]] | None = None,
                   content: bytes | None = None, read_timeout: float | None = None) -> aiohttp.ClientResponse:
        """Send one request and return once the status and headers are in (retried on connect failures if
        idempotent); the caller reads the body and must `release()` the response. Raises UpstreamError."""
        if not self.breaker.allow():
            raise UpstreamError(self.name, 503, f"The {self.name} service is unavailable (circuit open after "
                                f"{self.breaker.failures} failures); retry later.", title="Upstream unavailable",
                                type_slug="upstream-circuit-open", retry_after=self.breaker.retry_after())
        # `encoded=True`: the path and query go on exactly as the caller wrote them (no re-quoting).
        url = URL(self._base + target, encoded=True)
        attempts = 1 + (self.retries if method.upper() in IDEMPOTENT_METHODS else 0)
        for attempt in range(attempts):
            try:
                if read_timeout is None:
                    response = await self.session.request(method, url, headers=headers, data=content or None,
                                                          allow_redirects=False)
                else:  # a file upload: the service may take longer to answer
                    response = await self.session.request(
                        method, url, headers=headers, data=content or None, allow_redirects=False,
                        timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout,
                                                      sock_connect=self.connect_timeout, sock_read=read_timeout))
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                # The request never reached the service: safe to send again when idempotent.
                if attempt + 1 < attempts:
                    await asyncio.sleep(self.retry_backoff * 2 ** attempt)
                    continue
                self.breaker.record_failure()
                raise UpstreamError(self.name, 503, f"The {self.name} service cannot be reached "
                                    f"({type(exc).__name__}).", title="Upstream unavailable",
                                    type_slug="upstream-unavailable") from None
            except BaseException as exc:
                problem = self.problem_for(exc)
                if problem is None:
                    # Cancelled by the client, or a bug of ours: says nothing about the upstream.
                    self.breaker.release_trial()
                    raise
                raise problem from None
            self.breaker.record_success()
            return response
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def reading_answer(self) -> Iterator[None]:
        """Around reading an answer's body: its failures become this upstream's problems (and count against the
        circuit); anything else passes through untouched."""
        try:
            yield
        except Exception as exc:
            problem = self.problem_for(exc)
            if problem is None:
                raise
            raise problem from None

    def problem_for(self, exc: BaseException) -> UpstreamError | None:
        """The problem for a request that failed after it went out (also while its answer was being read),
        counted against the circuit; None when the upstream is not to blame."""
        if isinstance(exc, asyncio.TimeoutError):  # aiohttp's ServerTimeoutError is one too
            problem = UpstreamError(self.name, 504, f"The {self.name} service did not answer in time.",
                                    title="Upstream timeout", type_slug="upstream-timeout")
        elif isinstance(exc, aiohttp.ClientError | OSError):
            problem = UpstreamError(self.name, 502, f"The {self.name} service broke the connection "
                                    f"({type(exc).__name__}).", title="Bad gateway", type_slug="upstream-broken")
        else:
            return None
        self.breaker.record_failure()
        return problem

    async def send(self, method: str, target: str, *, headers: Iterable[tuple[str, str]] | None = None,
                   content: bytes | None = None) -> UpstreamResponse:
        """Send one request and read the whole answer (see `open`)."""
        response = await self.open(method, target, headers=headers, content=content)
        try:
            with self.reading_answer():
                body = await response.read()
        finally:
            response.release()
        return UpstreamResponse(response.status, response.headers, body)


def new_upstream(name: str, base_url: str, *, timeout: float, connect_timeout: float, retries: int = 2,
                 breaker_threshold: int = 5, breaker_cooldown: float = 10.0) -> Upstream:
    return Upstream(name, base_url, timeout=timeout, connect_timeout=connect_timeout,
                    breaker=CircuitBreaker(breaker_threshold, breaker_cooldown), retries=retries)
