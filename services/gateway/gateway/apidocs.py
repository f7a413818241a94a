"""The merged OpenAPI document of the whole public API (/openapi.json, Swagger UI at /docs) and the AsyncAPI
document of the event contract (/asyncapi.yaml).

Each service's /openapi.json is fetched lazily and cached for `TTL` seconds (a stale copy is used while a
service is down). Service schemas are prefixed with the service name (`Crm`, `Erp`) so that equal names cannot
clash; every error response is described as an RFC 9457 problem document, which is what the system returns.
"""

import asyncio
import copy
import time
from functools import cache
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from gateway.openapi_support import PROBLEM_JSON
from gateway.proxy.upstreams import Upstream, UpstreamError
from throughline_platform.responses import OrjsonResponse

log = structlog.get_logger(__name__)

TTL = 60.0
REF_PREFIX = "#/components/schemas/"
PROBLEM_REF = {"$ref": REF_PREFIX + "Problem"}
_ERRORS = {
    401: "Not authenticated: missing, invalid or expired token or API key",
    403: "Forbidden: the caller's role may not do this",
    404: "Not found",
    422: "Invalid request",
    429: "Too many requests (see Retry-After and the RateLimit headers)",
    502: "Bad gateway: the service broke the connection",
    503: "The service is unavailable (or its circuit is open)",
    504: "The service did not answer in time",
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_DESCRIPTION = """The public API of Throughline, through the gateway.

Authenticate with `POST /api/auth/token` (OAuth2 password flow) and send `Authorization: Bearer <access_token>`,
or send a machine client's key as `X-API-Key`. Errors are RFC 9457 problem documents
(`application/problem+json`). `Idempotency-Key` is honoured on POST. The event contract is at `/asyncapi.yaml`.
"""


class ServiceDocs:
    """The last good /openapi.json of each service."""

    def __init__(self, upstreams: dict[str, Upstream]) -> None:
        self.upstreams = upstreams
        self._docs: dict[str, tuple[float, dict[str, Any]]] = {}

    async def _fetch(self, name: str) -> dict[str, Any] | None:
        cached = self._docs.get(name)
        if cached is not None and time.monotonic() - cached[0] < TTL:
            return cached[1]
        try:
            response = await self.upstreams[name].send("GET", "/openapi.json")
            if response.status_code == 200:
                doc = response.json()
                if isinstance(doc, dict):
                    self._docs[name] = (time.monotonic(), doc)
                    return doc
        except (UpstreamError, ValueError) as exc:
            log.warning("openapi_fetch_failed", upstream=name, error=str(exc))
        return cached[1] if cached is not None else None

    async def all(self) -> dict[str, dict[str, Any] | None]:
        names = list(self.upstreams)
        docs = await asyncio.gather(*(self._fetch(name) for name in names))
        return dict(zip(names, docs, strict=True))


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                out[key] = REF_PREFIX + prefix + value[len(REF_PREFIX):]
            else:
                out[key] = _rewrite_refs(value, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, prefix) for v in node]
    return node


def _normalise_errors(path: str, operation: dict[str, Any], public: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    codes = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    if not public:
        codes |= {401, 429}
    if path.startswith(("/api/crm/", "/api/erp/")):
        codes |= {403, 422, 502, 503, 504}
        if "{" in path:
            codes.add(404)
    for code in sorted(codes):
        existing = responses.get(str(code), {})
        # Errors are problem documents; a route that also answers a browser (a form post's error page) keeps
        # its other media types beside it.
        others = {media: body for media, body in existing.get("content", {}).items()
                  if media not in (PROBLEM_JSON, "application/json")}
        responses[str(code)] = {"description": existing.get("description") or _ERRORS.get(code, "Error"),
                                "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}, **others}}


def merge(gateway_doc: dict[str, Any], services: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    gateway_doc = copy.deepcopy(gateway_doc)
    schemas: dict[str, Any] = dict(gateway_doc.get("components", {}).get("schemas", {}))
    paths: dict[str, Any] = dict(gateway_doc.get("paths", {}))
    tags: list[dict[str, str]] = [{"name": t, "description": f"Gateway: {t}"} for t in
                                  ("auth", "users", "api keys", "customers", "operations", "docs")]
    missing = []
    for name, doc in services.items():
        if doc is None:
            missing.append(name)
            continue
        prefix = name.capitalize()
        doc = _rewrite_refs(doc, prefix)
        for schema_name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[prefix + schema_name] = schema
        for path, item in doc.get("paths", {}).items():
            if not path.startswith(f"/api/{name}/"):
                continue  # the service's health and metrics stay internal
            for method in _METHODS:
                if method in item:
                    item[method]["tags"] = [f"{name}: {t}" for t in item[method].get("tags", ["other"])]
                    item[method]["operationId"] = f"{name}_{item[method].get('operationId', method + path)}"
            paths[path] = item
        tags += [{"name": f"{name}: {t['name']}", **({"description": t["description"]} if "description" in t else {})}
                 for t in doc.get("tags", []) if isinstance(t, dict) and "name" in t]
    for path, item in paths.items():
        for method in _METHODS:
            if method in item:
                operation = item[method]
                public = operation.get("security") == [] or not path.startswith("/api/")
                if not path.startswith("/api/"):
                    operation["security"] = []
                _normalise_errors(path, operation, public)
    for unused in ("HTTPValidationError", "ValidationError"):
        for prefix in ("", "Crm", "Erp"):
            schemas.pop(prefix + unused, None)
    info: dict[str, Any] = {"title": "Throughline API", "version": gateway_doc.get("info", {}).get("version", "1"),
                            "description": _DESCRIPTION}
    if missing:
        info["x-missing-services"] = missing
        info["description"] += f"\n\n**Incomplete**: no API description from {', '.join(missing)} right now."
    schemas.setdefault("Problem", {"type": "object", "required": ["type", "title", "status", "detail"],
                                   "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                                  "status": {"type": "integer"}, "detail": {"type": "string"}}})
    return {
        "openapi": gateway_doc.get("openapi", "3.1.0"),
        "info": info,
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "oauth2", "flows": {"password": {"tokenUrl": "/api/auth/token", "scopes": {}}},
                           "description": "Access token from POST /api/auth/token"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "A machine client's key (created by an admin)"},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}],
        "tags": tags,
    }


@cache
def asyncapi_text() -> str:
    from throughline_events.asyncapi import build_document, render

    return render(build_document(), "auto")


router = APIRouter(tags=["docs"])


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> OrjsonResponse:
    app: FastAPI = request.app
    service_docs: ServiceDocs = app.state.service_docs
    merged = merge(app.openapi(), await service_docs.all())
    headers = {"cache-control": "no-store" if merged["info"].get("x-missing-services") else "max-age=60"}
    return OrjsonResponse(merged, headers=headers)


# Built once: the page is the same for every request, and its inline script's hash goes into the page's
# Content-Security-Policy (app.py), so the policy needs no 'unsafe-inline' for scripts.
SWAGGER_UI_PAGE = bytes(get_swagger_ui_html(openapi_url="/openapi.json", title="Throughline API").body).decode()


@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(SWAGGER_UI_PAGE)


@router.get("/asyncapi.yaml", summary="The AsyncAPI document of the event contract", response_class=Response,
            responses={200: {"content": {"application/yaml": {"schema": {"type": "object"}}}}},
            openapi_extra={"security": []})
async def asyncapi() -> Response:
    return Response(asyncapi_text(), media_type="application/yaml")
