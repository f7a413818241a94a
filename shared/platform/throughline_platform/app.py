"""The FastAPI application a service process runs: its routers (for the api role), problems, health, metrics."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from throughline_platform.auth import TokenVerifier
from throughline_platform.collector import settle_after_start_up
from throughline_platform.http import CrashedTasks, ReadinessCheck, install_http_plumbing
from throughline_platform.logging import configure_logging
from throughline_platform.openapi import add_problem_responses, with_body
from throughline_platform.settings import EdgeSettings


def service_app(*, service: str, title: str, jwt_public_key: str, serves_api: bool,
                routers: Callable[[], list[APIRouter]], readiness: ReadinessCheck,
                crashed_tasks: CrashedTasks = list, start: Callable[[], Awaitable[None]] | None = None,
                stop: Callable[[], Awaitable[None]] | None = None, log_level: str = "INFO") -> FastAPI:
    """`routers` is called (and so the routers imported) only when the process serves the API; `start` and
    `stop` run around the process's life (background work, pools)."""
    configure_logging(service, log_level)
    if serves_api and not jwt_public_key.strip():
        raise RuntimeError(f"{service.upper()}_JWT_PUBLIC_KEY (or JWT_PUBLIC_KEY) must hold the gateway's "
                           "public key: the API verifies every token itself")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if start is not None:
            await start()
        settle_after_start_up()
        try:
            yield
        finally:
            if stop is not None:
                await stop()

    app = FastAPI(title=title, lifespan=lifespan, docs_url="/docs", openapi_url="/openapi.json")
    app.state.verifier = TokenVerifier(jwt_public_key)
    edge = EdgeSettings.of(service)
    install_http_plumbing(app, service, readiness, crashed_tasks, max_body_bytes=edge.max_body_bytes,
                          max_upload_bytes=edge.max_upload_bytes,
                          metrics_token=edge.metrics_token)
    if serves_api:
        for router in routers():
            app.include_router(router)
    # What any operation with a body may answer, whatever the route: its body unreadable, or over the size limit.
    add_problem_responses(app, with_body, {400: "Bad request: the body could not be read (not JSON, not UTF-8, "
                                                "not multipart)", 413: "Payload too large"})
    return app
