"""The merged OpenAPI document, Swagger UI and the AsyncAPI document served by the gateway."""

from typing import Any

import httpx
import yaml

from devstack.stack import Stack
from tests.gateway.conftest import ExtraGateways
from tests.gateway.helpers import gateway_url
from throughline_events.asyncapi import build_document


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def test_merged_openapi_covers_gateway_crm_and_erp(stack: Stack) -> None:
    doc = httpx.get(gateway_url(stack) + "/openapi.json", timeout=15).json()
    assert doc["info"]["title"] == "Throughline API" and "x-missing-services" not in doc["info"]
    paths = doc["paths"]
    for path in ("/api/auth/token", "/api/auth/users", "/api/auth/api-keys", "/api/customers/{company_id}/overview",
                 "/api/crm/companies", "/api/crm/deals/{deal_id}/win", "/api/erp/projects", "/health"):
        assert path in paths, path
    assert not any(p.startswith("/health/") or p == "/metrics" for p in paths if "crm" in p or "erp" in p)
    schemas = doc["components"]["schemas"]
    assert any(name.startswith("Crm") for name in schemas) and any(name.startswith("Erp") for name in schemas)
    assert "Problem" in schemas and not any(name.endswith("HTTPValidationError") for name in schemas)
    # Every reference resolves inside the merged document.
    missing = {ref for ref in _refs(doc) if ref.removeprefix("#/components/schemas/") not in schemas}
    assert not missing, missing
    win = paths["/api/crm/deals/{deal_id}/win"]["post"]
    assert win["responses"]["503"]["content"]["application/problem+json"]
    assert win["tags"][0].startswith("crm: ")
    assert paths["/api/auth/token"]["post"]["security"] == []
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "apiKey"}


def test_merged_openapi_says_when_a_service_is_missing(gateways: ExtraGateways) -> None:
    doc = httpx.get(gateways.degraded.url + "/openapi.json", timeout=15).json()
    assert doc["info"]["x-missing-services"] == ["erp"]
    assert "/api/crm/companies" in doc["paths"] and not any(p.startswith("/api/erp/") for p in doc["paths"])


def test_swagger_ui_and_asyncapi_are_served(stack: Stack) -> None:
    ui = httpx.get(gateway_url(stack) + "/docs", timeout=15)
    assert ui.status_code == 200 and "swagger-ui" in ui.text and "/openapi.json" in ui.text
    served = httpx.get(gateway_url(stack) + "/asyncapi.yaml", timeout=15)
    assert served.status_code == 200 and served.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(served.text)
    assert document == build_document()
    assert "crm.deal.events" in {c["address"] for c in document["channels"].values()}
