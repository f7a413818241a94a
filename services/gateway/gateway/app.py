"""The gateway process: auth, proxying to CRM and ERP, health."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import structlog
from fastapi import FastAPI
from fastapi.responses import ORJSONResponse

from gateway.auth.router import router as auth_router
from gateway.auth.service import ensure_admin
from gateway.auth.tokens import TokenIssuer
from gateway.health import router as health_router
from gateway.proxy.router import router as proxy_router
from gateway.proxy.upstreams import new_upstream
from gateway.settings import GatewaySettings, get_settings
from gateway.web_app import mount_web_app
from throughline_messaging.auth import TokenVerifier
from throughline_messaging.db import new_engine, new_session_factory
from throughline_messaging.http import RequestContextMiddleware
from throughline_messaging.logging import configure_logging
from throughline_messaging.problems import install_problem_handlers

log = structlog.get_logger(__name__)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("gateway", settings.log_level)
    if not settings.jwt_private_key.strip():
        raise RuntimeError("GATEWAY_JWT_PRIVATE_KEY must hold an Ed25519 private key (PEM)")
    issuer = TokenIssuer(settings.jwt_private_key, timedelta(minutes=settings.access_token_minutes),
                         timedelta(days=settings.refresh_token_days))
    engine = new_engine(settings.database_url, pool_size=5)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with app.state.session_factory() as session:
            await ensure_admin(session, settings.admin_email, settings.admin_password)
        try:
            yield
        finally:
            for upstream in app.state.upstreams.values():
                await upstream.client.aclose()
            await app.state.health_client.aclose()
            await engine.dispose()

    app = FastAPI(title="Throughline API", default_response_class=ORJSONResponse, lifespan=lifespan)
    app.state.settings = settings
    app.state.issuer = issuer
    app.state.verifier = TokenVerifier(issuer.public_key_pem)
    app.state.session_factory = new_session_factory(engine)
    app.state.upstreams = {
        name: new_upstream(name, url, timeout=settings.upstream_timeout_seconds,
                           connect_timeout=settings.upstream_connect_timeout_seconds)
        for name, url in (("crm", settings.crm_url), ("erp", settings.erp_url))
    }
    app.state.health_client = httpx.AsyncClient(timeout=3)
    install_problem_handlers(app)
    app.include_router(auth_router)
    app.include_router(health_router)
    app.include_router(proxy_router)
    mount_web_app(app)
    app.add_middleware(RequestContextMiddleware, service="gateway")
    return app
