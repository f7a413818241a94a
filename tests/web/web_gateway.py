"""A gateway process for the browser tests while the real one does not yet serve the web app or /api/live.

`python -m tests.web.web_gateway --port N`: the gateway's own `create_app()`, plus, only where missing, the
web app (gateway.web_app.mount_web_app) and the live-updates router with its lifespan hooks. Once the
gateway's app.py registers both, the tests use the stack's gateway and this module is not started.
"""

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from fastapi.routing import APIRoute

from gateway import live
from gateway.app import create_app
from gateway.web_app import mount_web_app


def paths(app: FastAPI) -> set[str]:
    return {route.path for route in app.routes if isinstance(route, APIRoute)}


def build() -> FastAPI:
    app = create_app()
    if "/" not in paths(app):
        mount_web_app(app)
    if "/api/live" not in paths(app):
        app.include_router(live.router)
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(application: FastAPI) -> AsyncIterator[None]:
            async with inner(application):
                await live.start_live(application)
                try:
                    yield
                finally:
                    await live.stop_live(application)

        app.router.lifespan_context = lifespan
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build(), host="127.0.0.1", port=args.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
