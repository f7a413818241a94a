"""The error answers of a service's operations in its OpenAPI document, as RFC 9457 problem documents.

Every route lists the 4xx answers it really gives (`responses=problem_responses(...)`): a 409 for a state that
forbids the change, a 404 from a filter naming a record that does not exist, a 415 for an upload. What whole groups
of operations answer is added where it comes from (`add_problem_responses`): every operation with a body may answer
400 (a body that cannot be read) and 413 (too large) (`service_app`), every POST 409 (its Idempotency-Key is in use,
throughline_messaging.idempotency). The gateway adds 401, 403, 422, 429 and 502-504 to each service operation of the
merged document, and 404 where the path names a record. The fuzz gate (tests/gateway/test_schemathesis.py) fails
on any answer an operation does not document.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from throughline_platform.problems import PROBLEM_JSON

_DESCRIPTIONS = {
    400: "Bad request: the body could not be read (not JSON, not multipart)",
    401: "Not authenticated: missing, invalid or expired token",
    403: "Forbidden: the caller may not do this",
    404: "Not found: the record, or one the request names, does not exist",
    409: "Conflict: the record's state (or a concurrent request) does not allow this now",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid request: a value is malformed or breaks a rule",
}


class Problem(BaseModel):
    """An RFC 9457 problem document; extensions (request_id, errors...) may follow."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str


def problem_responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: each status answered with a problem document. `descriptions` say what a
    status means for this route (`_409="The invoice is not a draft"`)."""
    return {code: {"model": Problem,
                   "description": descriptions.get(f"_{code}") or _DESCRIPTIONS.get(code, "Error"),
                   "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for code in codes}


Operation = dict[str, Any]


def add_problem_responses(app: FastAPI, applies: Callable[[str, str, Operation], bool],
                          responses: dict[int, str]) -> None:
    """Document `responses` (status -> description) as problem answers of every operation of `app` for which
    `applies(method, path, operation)` is true; where the operation documents that status itself, the description
    is added to its own ("... Or: ..."). Done on the generated document, once, when it is first asked for."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        added = False
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or not applies(method, path, operation):
                    continue
                documented = operation.setdefault("responses", {})
                for status, description in responses.items():
                    own = documented.get(str(status))
                    if own is not None:
                        own["description"] = f"{own.get('description', '')}. Or: {description}".lstrip(". ")
                        continue
                    documented[str(status)] = {"description": description, "content": {
                        PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
                    added = True
        if added:
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def with_body(method: str, path: str, operation: Operation) -> bool:
    return "requestBody" in operation



def links(parameter: str, *targets: tuple[str, str], field: str = "id") -> dict[str, Any]:
    """The OpenAPI links of an answer to the operations on the record it returns (a `responses=` entry's value):
    `targets` are (method, path) pairs whose `{parameter}` takes the answer's `field`. Addressed by `operationRef`
    (a JSON pointer to the path), which stays right in the gateway's merged document (it renames operation ids)."""
    result: dict[str, Any] = {}
    for method, target in targets:
        pointer = "#/paths/" + target.replace("~", "~0").replace("/", "~1") + "/" + method.lower()
        name = f"{method.lower()}_{target.rstrip('/').rsplit('/', 1)[-1].strip('{}')}"
        result[name] = {"operationRef": pointer, "parameters": {parameter: f"$response.body#/{field}"}}
    return {"links": result}
