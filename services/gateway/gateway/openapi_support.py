"""The problem document (RFC 9457) as an OpenAPI schema, for the gateway's own routes and the merged document."""

from typing import Any

from pydantic import BaseModel, ConfigDict

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request", 401: "Not authenticated", 403: "Forbidden (the role may not do this)",
    404: "Not found", 409: "Conflict", 413: "Payload too large", 422: "Invalid request",
    429: "Too many requests (see Retry-After)", 502: "Bad gateway (an upstream answered badly)",
    503: "An upstream service is unavailable", 504: "An upstream service did not answer in time",
}


class Problem(BaseModel):
    """An RFC 9457 problem document; extensions (request_id, upstream, errors...) may follow."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status answered with a problem document."""
    return {code: {"model": Problem, "description": _TITLES.get(code, "Error"),
                   "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for code in codes}
