"""Helpers for the gateway tests: tokens minted with the stack's key, clients, a fake upstream service."""

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from aiohttp import web

from devstack.ports import free_port
from devstack.stack import Stack
from gateway.credentials.tokens import TokenIssuer

ROLES = ("admin", "sales", "finance", "project_manager", "member", "viewer")


def issuer(stack: Stack, access_ttl: timedelta = timedelta(minutes=5)) -> TokenIssuer:
    private, _ = stack.keys()
    return TokenIssuer(private, access_ttl, timedelta(days=1))


def token_for(stack: Stack, role: str, user_id: str | None = None, ttl: timedelta = timedelta(minutes=5)) -> str:
    user_id = user_id or str(uuid.uuid4())
    return issuer(stack, ttl).access_token(user_id=user_id, email=f"{role}-{user_id[:8]}@example.com", role=role)


def client(base_url: str, *, token: str | None = None, api_key: str | None = None,
           timeout: float = 10) -> httpx.Client:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if api_key:
        headers["X-API-Key"] = api_key
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout)


def gateway_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.ports.gateway}"


def login(base_url: str, email: str, password: str) -> httpx.Response:
    return httpx.post(f"{base_url}/api/auth/token", data={"username": email, "password": password}, timeout=10)


def assert_problem(response: httpx.Response, status: int, type_slug: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if type_slug is not None:
        assert body["type"].endswith("/" + type_slug), body
    return body


@dataclass
class FakeUpstream:
    """A tiny HTTP service standing in for the CRM: echoes, sleeps, holds, streams."""

    server: ThreadingHTTPServer
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    calls: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def start_fake_upstream(slow_seconds: float) -> FakeUpstream:
    fake: FakeUpstream

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            fake.calls.append(f"{self.command} {path}")
            if path == "/openapi.json":
                self._json(200, {"openapi": "3.1.0", "info": {"title": "fake", "version": "1"}, "paths": {}})
            elif path == "/api/crm/slow":
                time.sleep(slow_seconds)
                self._json(200, {"slow": True})
            elif path == "/api/crm/hold":
                # Answers only once released, trickling whitespace meanwhile (valid leading JSON whitespace) so
                # that the gateway's read timeout never fires however long the test takes to release it.
                self.send_response(201)
                self.send_header("content-type", "application/json")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                fake.arrived.set()
                deadline = time.monotonic() + 30
                while not fake.release.wait(0.1) and time.monotonic() < deadline:
                    self.wfile.write(b"1\r\n \r\n")
                    self.wfile.flush()
                data = json.dumps({"held": True, "body": body.decode()}).encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
            elif path == "/api/crm/big":
                self.send_response(200)
                self.send_header("content-type", "application/octet-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for i in range(64):
                    chunk = bytes([i % 256]) * 16384
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            elif path == "/api/crm/fail":
                self._json(500, {"boom": True})
            else:
                self._json(200, {"method": self.command, "path": self.path, "body": body.decode(errors="replace"),
                                 "headers": {k.lower(): v for k, v in self.headers.items()}})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake = FakeUpstream(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake


@asynccontextmanager
async def serving(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> AsyncIterator[str]:
    """A real HTTP server in this event loop answering every path with `handler`; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def closed_port_url() -> str:
    """A URL nothing listens on: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}"
