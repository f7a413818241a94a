"""GET /health: the gateway's own state plus every service's readiness, fetched in parallel."""

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response

from throughline_platform.http import metrics_response
from throughline_platform.responses import OrjsonResponse

router = APIRouter(tags=["operations"])


async def _ready(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await client.get(url, timeout=3)
        body = response.json()
        return {"ok": response.status_code == 200, "status": body.get("status"),
                "components": body.get("components", {})}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


@router.get("/health", summary="The whole system's readiness, per service",
            responses={503: {"description": "Some service is not ready"}})
async def health(request: Request) -> OrjsonResponse:
    state = request.app.state
    targets = {name: (state.health_client, f"{u.base_url.rstrip('/')}/health/ready")
               for name, u in state.upstreams.items()}
    for name, url in state.settings.health_urls.items():
        targets[name] = (state.health_client, url)
    results = await asyncio.gather(*(_ready(client, url) for client, url in targets.values()))
    services = dict(zip(targets, results, strict=True))
    ok = all(s["ok"] for s in services.values())
    return OrjsonResponse({"status": "ready" if ok else "degraded", "services": services},
                          status_code=200 if ok else 503)


@router.get("/health/live", summary="The gateway process is up")
async def live() -> dict[str, str]:
    return {"status": "live"}


@router.get("/metrics", summary="Prometheus metrics (METRICS_TOKEN as a bearer token, or from this machine)",
            response_class=Response)
async def prometheus(request: Request) -> Response:
    return metrics_response(request, request.app.state.settings.metrics_token)
