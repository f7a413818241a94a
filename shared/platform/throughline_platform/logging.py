"""structlog configured for JSON lines on stdout, with context ids merged from contextvars."""

import logging
import sys
from typing import BinaryIO

import orjson
import structlog
from structlog.typing import EventDict, WrappedLogger

from throughline_platform.context import LOGGED_IDS


def add_bound_ids(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """The request, correlation and causation ids of the current request or event handler (`bound_ids`)."""
    for key, var in LOGGED_IDS:
        value = var.get()
        if value and key not in event:
            event[key] = value
    return event


def configure_logging(service: str, level: str = "INFO", stream: BinaryIO | None = None) -> None:
    """JSON lines to `stream` (stdout by default), rendered by orjson straight to bytes and written with one
    `write` each: as text, every line cost an encode and two writes (the line, then its newline), and a
    worker logs every event it handles."""
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_bound_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            lambda _logger, _name, event: {"service": service, **event},
            structlog.processors.JSONRenderer(serializer=lambda obj, **_: orjson.dumps(obj, default=str)),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.BytesLoggerFactory(stream or sys.stdout.buffer),
        cache_logger_on_first_use=True,
    )
    # Libraries log through the standard library; keep their warnings, drop their chatter.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
