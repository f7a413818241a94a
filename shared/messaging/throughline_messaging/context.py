"""Request, correlation and causation ids for the current task, bound into every log line."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id_var: ContextVar[str | None] = ContextVar("causation_id", default=None)


def new_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def bound_ids(*, request_id: str | None = None, correlation_id: str | None = None,
              causation_id: str | None = None) -> Iterator[None]:
    """Bind ids for the duration of a request or an event handler (logs and new events read them)."""
    tokens = [
        (request_id_var, request_id_var.set(request_id)),
        (correlation_id_var, correlation_id_var.set(correlation_id)),
        (causation_id_var, causation_id_var.set(causation_id)),
    ]
    fields = {k: v for k, v in (("request_id", request_id), ("correlation_id", correlation_id),
                                ("causation_id", causation_id)) if v}
    with structlog.contextvars.bound_contextvars(**fields):
        try:
            yield
        finally:
            for var, token in reversed(tokens):
                var.reset(token)
