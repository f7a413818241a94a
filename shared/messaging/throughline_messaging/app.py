"""The FastAPI application every service process runs: its routers (for the api role), health, metrics."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import ORJSONResponse

from throughline_messaging.auth import TokenVerifier
from throughline_messaging.http import install_http_plumbing
from throughline_messaging.logging import configure_logging
from throughline_messaging.runtime import RuntimeConfig, ServiceRuntime


def service_app(*, title: str, config: RuntimeConfig, jwt_public_key: str, routers: list[APIRouter],
                log_level: str = "INFO") -> FastAPI:
    configure_logging(config.service, log_level)
    if "api" in config.roles and not jwt_public_key.strip():
        raise RuntimeError(f"{config.service.upper()}_JWT_PUBLIC_KEY (or JWT_PUBLIC_KEY) must hold the gateway's "
                           "public key: the API verifies every token itself")
    runtime = ServiceRuntime(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, default_response_class=ORJSONResponse, lifespan=lifespan,
                  docs_url="/docs", openapi_url="/openapi.json")
    app.state.runtime = runtime
    app.state.verifier = TokenVerifier(jwt_public_key)
    install_http_plumbing(app, config.service, runtime.readiness)
    if "api" in config.roles:
        for router in routers:
            app.include_router(router)
    return app
