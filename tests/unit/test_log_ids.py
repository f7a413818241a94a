"""Log lines carry the request, correlation and causation ids bound for the request or event being handled."""

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from throughline_platform.context import bound_ids
from throughline_platform.logging import configure_logging


@pytest.fixture
def output() -> Iterator[io.BytesIO]:
    """The service's log pipeline, writing to a buffer instead of stdout."""
    saved = structlog.get_config()
    buffer = io.BytesIO()
    configure_logging("test", stream=buffer)
    yield buffer
    structlog.configure(**saved)


def test_ids_are_logged_while_bound_and_only_then(output: io.BytesIO) -> None:
    log = structlog.get_logger("ids")
    with bound_ids(request_id="req-1", correlation_id="corr-1"):
        log.info("inside")
        with bound_ids(correlation_id="corr-2", causation_id="event-2"):
            log.info("nested", request_id="explicit")
        log.info("back")
    log.info("outside")
    inside, nested, back, outside = [json.loads(line) for line in output.getvalue().splitlines()]
    assert (inside["request_id"], inside["correlation_id"]) == ("req-1", "corr-1") and "causation_id" not in inside
    assert (nested["request_id"], nested["correlation_id"], nested["causation_id"]) == (
        "explicit", "corr-2", "event-2")  # a field given on the line itself wins
    assert back["correlation_id"] == "corr-1" and "causation_id" not in back
    assert not {"request_id", "correlation_id", "causation_id"} & set(outside)
    assert {line["service"] for line in (inside, nested, back, outside)} == {"test"}
