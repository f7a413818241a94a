"""In-process token buckets per caller (user or API key), with the IETF `RateLimit-*` headers.

Each gateway process keeps its own buckets: with N replicas a caller gets up to N times the limit, which is
the usual trade for not adding a shared store on the hot path (see docs/gateway.md).
"""

import ipaddress
import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from throughline_platform.problems import ProblemError

MAX_BUCKETS = 100_000


@dataclass
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        headers = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                   "RateLimit-Reset": str(self.reset_seconds)}
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimited(ProblemError):
    status, type_slug, title = 429, "rate-limited", "Too many requests"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """`capacity` requests at once, refilled at `capacity` per `window` seconds (per minute by default)."""

    def __init__(self, capacity: int, window: float = 60.0) -> None:
        self.capacity = capacity
        self.rate = capacity / window if capacity > 0 else 0.0
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def take(self, key: str, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(self.capacity), now)
            self._buckets[key] = bucket
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(float(self.capacity), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets.move_to_end(key)
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        missing = self.capacity - bucket.tokens
        reset = math.ceil(missing / self.rate) if missing > 0 else 0
        retry_after = 0 if allowed else max(1, math.ceil((1.0 - bucket.tokens) / self.rate))
        return Decision(allowed, self.capacity, int(bucket.tokens), reset, retry_after)


def address_key(host: str | None) -> str:
    """The client address as counted (login throttling, public lead capture): IPv4 as is, IPv6 by its /64."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)
