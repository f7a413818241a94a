"""One pooled HTTP client per upstream service, for the life of the process."""

from dataclasses import dataclass

import httpx


@dataclass
class Upstream:
    name: str
    base_url: str
    client: httpx.AsyncClient


def new_upstream(name: str, base_url: str, *, timeout: float, connect_timeout: float) -> Upstream:
    client = httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=30),
        follow_redirects=False,
    )
    return Upstream(name, base_url, client)
