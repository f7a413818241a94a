"""Who may post to the public lead-capture endpoint, and how often: an in-process token bucket per key."""

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from fastapi import Request

from crm.policy import POLICY, Action
from crm.settings import get_settings
from throughline_platform.auth import TokenVerifier, bearer_token
from throughline_platform.problems import ProblemError, Unauthorized


class TooManyRequests(ProblemError):
    status, type_slug, title = 429, "rate-limited", "Too many requests"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, per_minute: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        capacity = float(max(1, per_minute))
        rate = capacity / 60.0
        bucket = self._buckets.setdefault(key, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1:
            retry_after = math.ceil((1 - bucket.tokens) / rate)
            raise TooManyRequests(f"Lead capture is limited to {per_minute} requests a minute per key; retry in "
                                  f"{retry_after} s.", retry_after=retry_after)
        bucket.tokens -= 1


LIMITER = RateLimiter()


def capture_caller(request: Request) -> str:
    """The rate-limit identity of a capture request: a configured X-API-Key, or a gateway-signed token whose role
    may capture leads (crm.leads.capture; the gateway's API keys arrive as access tokens of kind "api_key")."""
    api_key = request.headers.get("x-api-key")
    if api_key:
        for known in get_settings().capture_keys():
            if hmac.compare_digest(api_key.encode(), known.encode()):
                return "key:" + hashlib.sha256(known.encode()).hexdigest()[:16]
    if request.headers.get("authorization"):
        verifier: TokenVerifier = request.app.state.verifier
        principal = verifier.verify(bearer_token(request))
        if POLICY.allows(principal.role, Action.LEADS_CAPTURE):
            return f"{principal.kind}:{principal.user_id}"
        raise Unauthorized("Lead capture needs a sales or API-key token.", type_slug="capture-key-invalid")
    raise Unauthorized("Lead capture needs a valid X-API-Key header.", type_slug="capture-key-invalid")
