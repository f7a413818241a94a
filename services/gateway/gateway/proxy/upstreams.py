"""One pooled HTTP client per upstream service, with retries for idempotent requests and a circuit breaker.

Failures are named after the upstream as problem documents: 503 when it cannot be reached (or its circuit is
open), 504 when it does not answer in time, 502 when the connection breaks mid-answer.
"""

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import structlog

from throughline_messaging.problems import ProblemError

log = structlog.get_logger(__name__)

KEEPALIVE_SECONDS = 4.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


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
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_running:
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


@dataclass
class Upstream:
    name: str
    base_url: str
    client: httpx.AsyncClient
    breaker: CircuitBreaker = field(default_factory=lambda: CircuitBreaker(5, 10.0))
    retries: int = 2
    retry_backoff: float = 0.05

    async def send(self, method: str, path: str, *, headers: list[tuple[str, str]] | None = None,
                   content: bytes | None = None, stream: bool = False) -> httpx.Response:
        """Send one request (retried on connect failures if idempotent); raise UpstreamError on failure."""
        if not self.breaker.allow():
            raise UpstreamError(self.name, 503, f"The {self.name} service is unavailable (circuit open after "
                                f"{self.breaker.failures} failures); retry later.", title="Upstream unavailable",
                                type_slug="upstream-circuit-open", retry_after=self.breaker.retry_after())
        attempts = 1 + (self.retries if method.upper() in IDEMPOTENT_METHODS else 0)
        for attempt in range(attempts):
            request = self.client.build_request(method, path, headers=headers, content=content)
            try:
                response = await self.client.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt + 1 < attempts:
                    await asyncio.sleep(self.retry_backoff * 2 ** attempt)
                    continue
                self.breaker.record_failure()
                raise UpstreamError(self.name, 503, f"The {self.name} service cannot be reached "
                                    f"({type(exc).__name__}).", title="Upstream unavailable",
                                    type_slug="upstream-unavailable") from None
            except httpx.TimeoutException:
                self.breaker.record_failure()
                raise UpstreamError(self.name, 504, f"The {self.name} service did not answer in time.",
                                    title="Upstream timeout", type_slug="upstream-timeout") from None
            except httpx.TransportError as exc:
                self.breaker.record_failure()
                raise UpstreamError(self.name, 502, f"The {self.name} service broke the connection "
                                    f"({type(exc).__name__}).", title="Bad gateway",
                                    type_slug="upstream-broken") from None
            except BaseException:
                self.breaker.release_trial()  # cancelled by the client: says nothing about the upstream
                raise
            self.breaker.record_success()
            return response
        raise AssertionError("unreachable")


def new_upstream(name: str, base_url: str, *, timeout: float, connect_timeout: float, retries: int = 2,
                 breaker_threshold: int = 5, breaker_cooldown: float = 10.0) -> Upstream:
    client = httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        # Idle connections are dropped before the services' (uvicorn's) 5 s keep-alive timeout: the client must
        # close first, or a request sent on a connection the service is closing fails (found by the benchmark).
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=KEEPALIVE_SECONDS),
        follow_redirects=False,
    )
    return Upstream(name, base_url, client, CircuitBreaker(breaker_threshold, breaker_cooldown), retries)
