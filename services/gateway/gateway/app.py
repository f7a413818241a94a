"""The gateway process: auth, users and API keys, proxying to CRM and ERP, composite views, docs, health,
the web app (`/`) and its live updates (`/api/live`)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from gateway import live
from gateway.apidocs import SWAGGER_UI_PAGE, ServiceDocs
from gateway.apidocs import router as docs_router
from gateway.apikeys.router import router as api_keys_router
from gateway.auth.policies import PolicyTables
from gateway.auth.router import router as auth_router
from gateway.auth.service import PasswordChecks, ensure_admin
from gateway.auth.throttle import HashingGate, Limits, LoginThrottle
from gateway.credentials.tokens import TokenIssuer
from gateway.customers.router import router as customers_router
from gateway.exports import export_routes
from gateway.health import router as health_router
from gateway.middleware import InputHygieneMiddleware, StateHeadersMiddleware
from gateway.notifications.router import router as notifications_router
from gateway.proxy.idempotency import IdempotencyStore
from gateway.proxy.router import LEAD_CAPTURE_PATH, proxy_routes
from gateway.proxy.upstreams import UpstreamError, new_upstream
from gateway.ratelimit import TokenBuckets
from gateway.search.router import router as search_router
from gateway.security import ApiKeyAuthenticator
from gateway.sentmail.router import router as sent_mail_router
from gateway.sessions import SessionRevocations
from gateway.settings import GatewaySettings, get_settings
from gateway.users.router import links_router
from gateway.users.router import router as users_router
from gateway.views.router import router as views_router
from gateway.web_app import mount_web_app
from throughline_platform.auth import TokenVerifier
from throughline_platform.collector import settle_after_start_up
from throughline_platform.db import new_engine, new_session_factory
from throughline_platform.hardening import SecurityHeadersMiddleware, swagger_ui_csp
from throughline_platform.http import RequestContextMiddleware
from throughline_platform.logging import configure_logging
from throughline_platform.problems import install_problem_handlers, problem_response
from throughline_platform.responses import OrjsonResponse

log = structlog.get_logger(__name__)

# The web app's policy: scripts, styles, images and connections from this origin only; no inline script (the app
# has none, nor inline event handlers); no plugins, no <base>, forms post here only, and nobody may frame it.
# Inline styles are allowed: the rendered invoice is shown in a srcdoc iframe, which inherits this policy, and
# carries its stylesheet inline (the ERP renders it); a style cannot run code. The favicon is a data: URL.
WEB_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

ROUTERS = [auth_router, users_router, links_router, api_keys_router, customers_router, search_router, views_router,
           notifications_router, live.router, health_router, docs_router,
           sent_mail_router]
PURGE_EVERY_SECONDS = 3600


async def _purge_idempotency_keys(store: IdempotencyStore) -> None:
    while True:
        try:
            purged = await store.purge_expired()
            if purged:
                log.info("idempotency_keys_purged", count=purged)
        except Exception as exc:  # the database may be briefly away; try again next round
            log.warning("idempotency_purge_failed", error=repr(exc))
        await asyncio.sleep(PURGE_EVERY_SECONDS)


class CorsExceptLeadCapture(CORSMiddleware):
    """The gateway's CORS for the web app's origins, except on the public lead capture: there the CRM answers for the
    origins its capture keys allow (a website is not one of the web app's origins)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == LEAD_CAPTURE_PATH:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("gateway", settings.log_level)
    if not settings.jwt_private_key.strip():
        raise RuntimeError("GATEWAY_JWT_PRIVATE_KEY must hold an Ed25519 private key (PEM)")
    issuer = TokenIssuer(settings.jwt_private_key, timedelta(minutes=settings.access_token_minutes),
                         timedelta(days=settings.refresh_token_days))
    engine = new_engine(settings.database_url, pool_size=settings.db_pool_size, application_name="gateway")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with app.state.session_factory() as session:
            await ensure_admin(session, settings.admin_email, settings.admin_password)
        await app.state.revocations.refresh()  # in force before the first request
        background = [asyncio.create_task(_purge_idempotency_keys(app.state.idempotency)),
                      asyncio.create_task(app.state.revocations.run())]
        settle_after_start_up()
        try:
            yield
        finally:
            # The live-updates consumer starts with its first subscriber (no Kafka work for a gateway nobody
            # streams from); it is stopped here, before the engine goes.
            await live.stop_live(app)
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for upstream in app.state.upstreams.values():
                await upstream.aclose()
            await app.state.health_client.aclose()
            await engine.dispose()

    app = FastAPI(title="Throughline API", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.issuer = issuer
    app.state.verifier = TokenVerifier(issuer.public_key_pem)
    app.state.session_factory = new_session_factory(engine)
    app.state.upstreams = {
        name: new_upstream(name, url, timeout=settings.upstream_timeout_seconds,
                           connect_timeout=settings.upstream_connect_timeout_seconds,
                           retries=settings.upstream_retries, breaker_threshold=settings.breaker_failure_threshold,
                           breaker_cooldown=settings.breaker_cooldown_seconds)
        for name, url in (("crm", settings.crm_url), ("erp", settings.erp_url))
    }
    app.state.health_client = httpx.AsyncClient(timeout=3)
    app.state.api_keys = ApiKeyAuthenticator(app.state.session_factory, issuer)
    app.state.user_buckets = TokenBuckets(settings.rate_limit_per_minute)
    app.state.key_buckets = TokenBuckets(settings.api_key_rate_limit_per_minute)
    app.state.capture_buckets = TokenBuckets(settings.lead_capture_per_minute_per_address)
    app.state.public_buckets = TokenBuckets(settings.public_per_minute_per_address)
    app.state.idempotency = IdempotencyStore(app.state.session_factory)
    app.state.revocations = SessionRevocations(app.state.session_factory, issuer.access_ttl)
    app.state.password_checks = PasswordChecks(
        LoginThrottle(Limits(account_free=settings.login_free_attempts_per_account,
                             address_free=settings.login_free_attempts_per_address,
                             max_delay=settings.login_max_delay_seconds)),
        HashingGate())
    app.state.service_docs = ServiceDocs(app.state.upstreams)
    app.state.policy_tables = PolicyTables(app.state.upstreams)
    install_problem_handlers(app)

    @app.exception_handler(UpstreamError)
    async def _upstream_problem(_: Request, exc: UpstreamError) -> OrjsonResponse:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return problem_response(exc.status, exc.title, exc.detail, exc.type_slug, headers=headers, **exc.extensions)

    for router in ROUTERS:
        app.include_router(router)
    # The proxied paths (nearly every call) are plain ASGI routes (see gateway.proxy.router), matched first so a
    # call does not walk every other route; no other route lives under /api/crm/ or /api/erp/.
    app.router.routes[:0] = proxy_routes()
    # The exports, forwarded like the rest and then given people's names (gateway.exports), are matched before them.
    app.router.routes[:0] = export_routes()
    mount_web_app(app)
    app.add_middleware(StateHeadersMiddleware)
    app.add_middleware(InputHygieneMiddleware, max_body_bytes=settings.max_body_bytes)
    # Every answer of the gateway's own carries the headers; a proxied one keeps its service's (the same set).
    app.add_middleware(SecurityHeadersMiddleware, csp=WEB_CSP, csp_by_path={"/docs": swagger_ui_csp(SWAGGER_UI_PAGE)})
    app.add_middleware(RequestContextMiddleware, service="gateway")
    if settings.cors_origins:
        app.add_middleware(
            CorsExceptLeadCapture, allow_origins=settings.cors_origins, allow_credentials=False,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type", "idempotency-key", "x-api-key", "x-request-id",
                           "x-correlation-id", "traceparent", "tracestate"],
            expose_headers=["x-request-id", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
                            "retry-after", "idempotent-replayed", "location"],
            max_age=600,
        )
    return app
