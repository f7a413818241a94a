"""Throttling password guesses, per account and per client address, before any Argon2 work.

Every attempt is counted when it starts, as a failure until it succeeds. Past a few free attempts, each further one
doubles the wait before the next is allowed (1 s, 2 s, 4 s ... up to 15 minutes); an attempt inside the wait is
refused with 429 and `Retry-After` at the cost of a dict lookup. Counting at the start (not after Argon2 said no)
is what stops a burst of parallel guesses: only the free attempts and one more reach the hash. A success forgets
the account's count and its own mark on the address; the address's other failures stay (one valid account must not
launder an address that is guessing at others). A record with no attempt for an hour is forgotten.

In memory, per gateway process. A refused attempt then costs no I/O at all (the point of throttling: a flood
must not reach the database either), and counting is atomic within the event loop. With N replicas behind a load
balancer a guesser gets about N times the attempts, which exponential backoff turns into log2(N) more doublings;
a restart forgets the counts (a guesser cannot restart the gateway). A shared store would buy exactness at a
network round trip per attempt (docs/security.md).

Addresses are what uvicorn settled on: the peer, or, behind a proxy listed in `FORWARDED_ALLOW_IPS` (127.0.0.1 by
default), the client that proxy names in X-Forwarded-For. IPv6 clients are counted per /64 (one subscriber's
network: otherwise each guess could come from a new address).
"""

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from throughline_platform.problems import ProblemError

MAX_RECORDS = 100_000


class TooManyAttempts(ProblemError):
    status, type_slug, title = 429, "login-throttled", "Too many login attempts"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


@dataclass
class _Record:
    attempts: int = 0
    blocked_until: float = 0.0
    last_attempt: float = 0.0


@dataclass(frozen=True)
class Limits:
    account_free: int = 5  # attempts per account before backoff starts
    address_free: int = 20  # per client address (an office behind one NAT has many people typing)
    base_delay: float = 1.0
    max_delay: float = 900.0
    forget_after: float = 3600.0


class LoginThrottle:
    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def begin(self, account: str, address: str) -> None:
        """Count an attempt about to be checked, or refuse it (TooManyAttempts) while either key must wait."""
        now = self._clock()
        keys = (("account:" + account.strip().lower(), self.limits.account_free), ("address:" + address,
                                                                                    self.limits.address_free))
        records = [(self._record(key, now), free) for key, free in keys]
        wait = max(record.blocked_until - now for record, _ in records)
        if wait > 0:
            retry_after = math.ceil(wait)
            raise TooManyAttempts(f"Too many login attempts; try again in {retry_after} s.", retry_after)
        for record, free in records:
            record.attempts += 1
            record.last_attempt = now
            if record.attempts > free:
                delay = self.limits.base_delay * 2 ** min(record.attempts - free - 1, 30)
                record.blocked_until = now + min(delay, self.limits.max_delay)

    def succeeded(self, account: str, address: str) -> None:
        """The attempt was right: the account starts afresh; the address loses only this attempt's mark."""
        self._records.pop("account:" + account.strip().lower(), None)
        record = self._records.get("address:" + address)
        if record is not None:
            record.attempts = max(0, record.attempts - 1)
            if record.attempts <= self.limits.address_free:
                record.blocked_until = 0.0  # the wait this attempt started, if any, goes with it

    def forget_account(self, account: str) -> None:
        """An admin set a new password: the account's count goes (in this process)."""
        self._records.pop("account:" + account.strip().lower(), None)

    def _record(self, key: str, now: float) -> _Record:
        record = self._records.get(key)
        if record is None or (now - record.last_attempt > self.limits.forget_after and now >= record.blocked_until):
            record = _Record()
            self._records[key] = record
            if len(self._records) > MAX_RECORDS:
                self._records.popitem(last=False)
        else:
            self._records.move_to_end(key)
        return record


class HashingGate:
    """At most `slots` Argon2 computations at a time (each takes ~19 MiB and tens of ms of CPU), and at most
    `queue` attempts waiting for one: beyond that a login is refused at once with 429 rather than piling up threads,
    memory and latency for every other request the gateway is serving."""

    def __init__(self, slots: int = 2, queue: int = 32) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._queue = queue
        self._waiting = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._waiting >= self._queue:
            raise TooManyAttempts("The server is busy checking passwords; try again in a moment.", 1)
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()
