"""The JSON response for bodies our code builds itself (problems, health, merged API docs).

Route results are serialised by FastAPI through their pydantic response models, straight to JSON bytes.
FastAPI deprecated its `ORJSONResponse`, which did the same as this class.
"""

from typing import Any

import orjson
from starlette.responses import Response


class OrjsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
