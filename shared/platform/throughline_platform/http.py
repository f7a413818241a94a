"""HTTP plumbing every service mounts: request ids into the log context, metrics, health and /metrics, security
headers and the body size limit."""

import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from throughline_platform import metrics
from throughline_platform.context import bound_ids, new_id
from throughline_platform.hardening import (
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    metrics_allowed,
    metrics_refused,
    swagger_ui_csp,
)
from throughline_platform.responses import OrjsonResponse

log = structlog.get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
CrashedTasks = Callable[[], list[str]]


class RequestContextMiddleware:
    """Binds X-Request-ID / X-Correlation-ID for the request (logs, new events), echoes the request id,
    records per-route metrics and one access-log line. Pure ASGI: no per-request task overhead."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        # Labelled metric children, looked up once: `.labels()` takes a lock and builds its key on every call.
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._timers: dict[tuple[str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = _header(headers, b"x-request-id") or new_id()
        correlation_id = _header(headers, b"x-correlation-id") or request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with bound_ids(request_id=request_id, correlation_id=correlation_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = scope.get("route")
                path = getattr(route, "path", "unmatched")
                method = scope["method"]
                self._count(method, path, status).inc()
                self._timer(method, path).observe(elapsed)
                if not path.startswith(("/health", "/metrics")):
                    log.info("http_request", method=method, path=scope["path"], status=status,
                             duration_ms=round(elapsed * 1000, 2))

    def _count(self, method: str, route: str, status: int) -> Counter:
        child = self._counters.get((method, route, status))
        if child is None:
            child = self._counters[(method, route, status)] = metrics.HTTP_REQUESTS.labels(
                self.service, method, route, str(status))
        return child

    def _timer(self, method: str, route: str) -> Histogram:
        child = self._timers.get((method, route))
        if child is None:
            child = self._timers[(method, route)] = metrics.HTTP_LATENCY.labels(self.service, method, route)
        return child


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    if not value:
        return None
    text = value.decode("latin-1").strip()
    # Ids end up in logs and events: accept only short, printable ones.
    return text if 0 < len(text) <= 128 and text.isprintable() else None


def metrics_response(request: Request, token: str) -> Response:
    """The Prometheus exposition, for operators only (see `hardening.metrics_allowed`)."""
    if not metrics_allowed(request, token):
        return metrics_refused(token)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def operations_router(readiness: ReadinessCheck, crashed_tasks: CrashedTasks = list, metrics_token: str = ""
                      ) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process is up and none of its background tasks died",
                responses={503: {"description": "A relay, consumer or job died of a bug: restart the process"}})
    async def live() -> OrjsonResponse:
        # A worker whose consumer died would otherwise stay "live" for ever, handling nothing: the liveness probe
        # is what makes the orchestrator restart it (docs/decisions.md).
        crashed = crashed_tasks()
        if crashed:
            return OrjsonResponse({"status": "dead", "crashed": crashed}, status_code=503)
        return OrjsonResponse({"status": "live"})

    @router.get("/health/ready", summary="Ready for traffic: every component it needs works",
                responses={503: {"description": "Not ready; the body names the failing component"}})
    async def ready() -> OrjsonResponse:
        ok, components = await readiness()
        body = {"status": "ready" if ok else "not_ready", "components": components}
        return OrjsonResponse(body, status_code=200 if ok else 503)

    @router.get("/metrics", summary="Prometheus metrics (METRICS_TOKEN as a bearer token, or from this machine)",
                response_class=Response)
    async def prometheus(request: Request) -> Response:
        return metrics_response(request, metrics_token)

    return router


def swagger_ui_csp_of(app: FastAPI) -> dict[str, str]:
    """The policy of the app's own Swagger UI page (FastAPI's, built the way FastAPI builds it), by path."""
    if not (app.docs_url and app.openapi_url):
        return {}
    page = get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI",
                               oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
                               init_oauth=app.swagger_ui_init_oauth, swagger_ui_parameters=app.swagger_ui_parameters)
    return {app.docs_url: swagger_ui_csp(bytes(page.body).decode())}


def install_http_plumbing(app: FastAPI, service: str, readiness: ReadinessCheck,
                          crashed_tasks: CrashedTasks = list, *, max_body_bytes: int = 0, max_upload_bytes: int = 0,
                          metrics_token: str = "") -> None:
    """Problems, health and metrics routes, then (outermost last) the body limit, the security headers and the
    request context, so that even a refused body gets the headers and a request id."""
    from throughline_platform.problems import install_problem_handlers

    install_problem_handlers(app)
    app.include_router(operations_router(readiness, crashed_tasks, metrics_token))
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes, max_upload_bytes=max_upload_bytes)
    app.add_middleware(SecurityHeadersMiddleware, csp_by_path=swagger_ui_csp_of(app))
    app.add_middleware(RequestContextMiddleware, service=service)
