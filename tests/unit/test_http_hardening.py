"""The HTTP edge every service shares (throughline_platform): an unhandled error is a 500 problem on a connection
that stays open, the body size limit (declared and streamed), security headers, /metrics for operators only."""

import asyncio
import base64
import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse

from devstack.ports import free_port
from throughline_platform.hardening import SERVICE_CSP
from throughline_platform.http import install_http_plumbing


async def _ready() -> tuple[bool, dict[str, object]]:
    return True, {}


def _app(max_body_bytes: int = 1024, metrics_token: str = "", max_upload_bytes: int = 0) -> FastAPI:
    app = FastAPI(title="Hardened", docs_url="/docs", openapi_url="/openapi.json")
    install_http_plumbing(app, "hardened", _ready, max_body_bytes=max_body_bytes, max_upload_bytes=max_upload_bytes,
                          metrics_token=metrics_token)

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("a bug")

    @app.get("/fine")
    async def fine() -> dict[str, str]:
        return {"fine": "yes"}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.post("/form")
    async def form(note: str = Form()) -> dict[str, int]:
        return {"size": len(note)}

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse("<style>p{color:red}</style><p>Invoice</p>")

    @app.get("/own-policy")
    async def own_policy() -> HTMLResponse:
        return HTMLResponse("<p>x</p>", headers={"Content-Security-Policy": "default-src 'self'"})

    return app


def _client(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://t")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


@pytest.fixture
async def served() -> AsyncIterator[int]:
    """The app under uvicorn (httptools, as the services run it) on a free port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, http="httptools", log_config=None,
                                           access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def test_an_unhandled_error_is_a_500_problem_and_the_connection_stays_open(served: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    try:
        writer.write(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body = await _read_response(reader)
        assert status == 500 and headers["content-type"] == "application/problem+json"
        assert b'"status":500' in body and b"a bug" not in body  # no internals for the client
        assert headers.get("connection", "").lower() != "close"
        # The same connection (one socket, never reopened) carries the next request.
        writer.write(b"GET /fine HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, body = await asyncio.wait_for(_read_response(reader), 5)
        assert status == 200 and body == b'{"fine":"yes"}'
    finally:
        writer.close()


async def test_a_body_over_the_limit_is_a_413_problem_declared_or_streamed() -> None:
    async with _client(_app(max_body_bytes=1024)) as client:
        assert (await client.post("/echo", content=b"x" * 1024)).json() == {"size": 1024}
        declared = await client.post("/echo", content=b"x" * 1025)
        assert declared.status_code == 413 and declared.json()["type"].endswith("/payload-too-large")

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: only counting finds it
            for _ in range(8):
                yield b"y" * 200

        streamed = await client.post("/echo", content=chunks())
        assert streamed.status_code == 413, streamed.text
        assert streamed.headers["content-type"] == "application/problem+json"
        # A form body is parsed by FastAPI, which turns other exceptions into a 400: the limit still says 413.
        form = await client.post("/form", data={"note": "z" * 2000})
        assert form.status_code == 413 and form.json()["type"].endswith("/payload-too-large")
        assert (await client.post("/form", data={"note": "short"})).json() == {"size": 5}


async def test_a_file_upload_has_its_own_larger_limit() -> None:
    """A multipart/form-data upload (a bank statement) may be larger than any other body, up to its own limit."""
    async with _client(_app(max_body_bytes=1024, max_upload_bytes=4096)) as client:
        upload = await client.post("/echo", files={"file": ("statement.xml", b"u" * 3000, "application/xml")})
        assert upload.status_code == 200 and upload.json()["size"] > 3000
        too_big = await client.post("/echo", files={"file": ("statement.xml", b"u" * 5000, "application/xml")})
        assert too_big.status_code == 413 and "4096" in too_big.json()["detail"]
        plain = await client.post("/echo", content=b"x" * 3000)  # not an upload: the ordinary limit
        assert plain.status_code == 413 and "1024" in plain.json()["detail"]


async def test_every_response_carries_the_security_headers() -> None:
    async with _client(_app()) as client:
        for path in ("/fine", "/page", "/boom", "/nowhere"):
            response = await client.get(path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["x-frame-options"] == "DENY", path
            assert response.headers["referrer-policy"] == "no-referrer", path
            assert response.headers["content-security-policy"] == SERVICE_CSP, path
        assert "frame-ancestors 'none'" in SERVICE_CSP and "script-src" not in SERVICE_CSP  # default-src 'none'
        # A response that sets its own policy keeps it.
        assert (await client.get("/own-policy")).headers["content-security-policy"] == "default-src 'self'"


async def test_swagger_ui_runs_its_inline_script_by_hash_not_unsafe_inline() -> None:
    async with _client(_app()) as client:
        docs = await client.get("/docs")
    policy = docs.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", docs.text, flags=re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert f"'sha256-{digest}'" in script_src and "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in policy


async def test_metrics_need_the_token_when_one_is_set() -> None:
    async with _client(_app(metrics_token="s3cret"), address="203.0.113.7") as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        opened = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert opened.status_code == 200 and "http_requests_total" in opened.text


async def test_without_a_token_metrics_are_served_to_this_machine_only() -> None:
    async with _client(_app(), address="127.0.0.1") as local:
        assert (await local.get("/metrics")).status_code == 200
    async with _client(_app(), address="::1") as local6:
        assert (await local6.get("/metrics")).status_code == 200
    async with _client(_app(), address="203.0.113.7") as remote:
        refused = await remote.get("/metrics")
        assert refused.status_code == 403 and "METRICS_TOKEN" in refused.json()["detail"]
