"""GET /api/live: the integration events as server-sent events, through the gateway."""

import asyncio
import json
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from devstack.stack import Stack
from gateway.live import LiveHub
from tests.kafka_support import wait_until
from tests.web.conftest import issuer
from tests.web.helpers import api_as


@contextmanager
def stream(base_url: str, token: str, **params: str) -> Iterator["queue.Queue[tuple[str, str]]"]:
    """Reads the event stream on a thread; yields a queue of (event, data) pairs once `ready` arrived."""
    events: queue.Queue[tuple[str, str]] = queue.Queue()
    stop = threading.Event()
    ready = threading.Event()

    def read() -> None:
        try:
            read_stream()
        except httpx.HTTPError:
            # A stream left open by a test that is done ends when the gateway stops; only a live test's fails.
            if not stop.is_set():
                raise

    def read_stream() -> None:
        with httpx.Client(timeout=httpx.Timeout(5, read=30)) as client, \
                client.stream("GET", f"{base_url}/api/live", params={"access_token": token, **params}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            event, data = "message", ""
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif line == "" and data:
                    if event == "ready":
                        ready.set()
                    else:
                        events.put((event, data))
                    event, data = "message", ""

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert ready.wait(20), "the stream never said ready"
    try:
        yield events
    finally:
        stop.set()


def next_event(events: "queue.Queue[tuple[str, str]]", wanted: str, timeout: float = 15) -> dict[str, Any]:
    while True:
        event, data = events.get(timeout=timeout)
        if event == wanted:
            envelope: dict[str, Any] = json.loads(data)
            return envelope


def test_live_needs_a_valid_access_token(stack: Stack, base_url: str) -> None:
    anonymous = httpx.get(f"{base_url}/api/live", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    forged = httpx.get(f"{base_url}/api/live", params={"access_token": "a.b.c"}, timeout=5)
    assert forged.status_code == 401
    refresh = issuer(stack).refresh_token(user_id=str(uuid.uuid4()))
    assert httpx.get(f"{base_url}/api/live", params={"access_token": refresh}, timeout=5).status_code == 401


def test_live_streams_new_events_to_every_subscriber_and_filters_by_type(stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    viewer_token = issuer(stack).access_token(user_id=str(uuid.uuid4()), email="v@example.com", role="viewer")
    with stream(base_url, viewer_token) as everything, stream(base_url, viewer_token, types="deal.") as deals_only:
        company = sales.new_company()
        created = next_event(everything, "company.created")
        assert created["aggregate_id"] == company["id"]
        assert created["data"]["name"] == company["name"]
        assert created["producer"] == "crm"

        deal = sales.new_deal(company["id"], amount="1500.00")
        first = deals_only.get(timeout=15)
        assert first[0] == "deal.created"  # company.created was filtered out of this stream
        assert json.loads(first[1])["aggregate_id"] == deal["id"]
        assert next_event(everything, "deal.created")["aggregate_id"] == deal["id"]


def test_the_consumer_stops_when_nobody_watches_and_starts_again_for_the_next_subscriber(
        stack: Stack, base_url: str) -> None:
    # On a thread of its own with its own event loop: once a browser test has run, Playwright keeps an event loop
    # running on the test thread, where no other loop may start.
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_consumer_stops_and_starts_again(stack, base_url))
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the live hub scenario did not finish in 120 s"
    if failures:
        raise failures[0]


async def _consumer_stops_and_starts_again(stack: Stack, base_url: str) -> None:
    hub = LiveHub(stack.bootstrap_servers, idle_stop_seconds=0.5)
    try:
        first = hub.subscribe(())
        await asyncio.wait_for(hub.ready.wait(), 20)
        hub.unsubscribe(first)

        async def stopped() -> bool:
            return not hub.running

        await wait_until(stopped, 10, "the unwatched consumer to stop")
        assert not hub.ready.is_set()

        second = hub.subscribe(("company.",))
        assert hub.running
        await asyncio.wait_for(hub.ready.wait(), 20)
        sales = api_as(stack, base_url, "sales")
        company = await asyncio.to_thread(sales.new_company)
        while True:  # other tests' companies may come first
            message = await asyncio.wait_for(second.queue.get(), 15)
            assert message is not None and message.startswith("id: ")
            if f'"aggregate_id":"{company["id"]}"' in message:
                break
    finally:
        await hub.stop()
