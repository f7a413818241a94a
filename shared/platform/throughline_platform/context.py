"""Request, correlation and causation ids for the current task, bound into every log line."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id_var: ContextVar[str | None] = ContextVar("causation_id", default=None)


def new_id() -> str:
    return uuid.uuid4().hex


# The ids every log line carries when they are set (see `throughline_platform.logging`).
LOGGED_IDS = (("request_id", request_id_var), ("correlation_id", correlation_id_var),
              ("causation_id", causation_id_var))


@contextmanager
def bound_ids(*, request_id: str | None = None, correlation_id: str | None = None,
              causation_id: str | None = None) -> Iterator[None]:
    """Bind ids for the duration of a request or an event handler (logs and new events read them). Only these
    context variables are set: the log pipeline reads them when a line is written, which is far cheaper per
    request than binding them into structlog's own context as well."""
    tokens = [
        (request_id_var, request_id_var.set(request_id)),
        (correlation_id_var, correlation_id_var.set(correlation_id)),
        (causation_id_var, causation_id_var.set(causation_id)),
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
