"""The single-page web app, served by the gateway at `/` (static files; it talks only to the public API)."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).parent / "web"


def mount_web_app(app: FastAPI) -> None:
    index = WEB_DIR / "index.html"
    if not index.exists():
        return

    @app.get("/", include_in_schema=False)
    async def web_index() -> FileResponse:
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.mount("/assets", StaticFiles(directory=WEB_DIR / "assets", check_dir=False), name="web-assets")
