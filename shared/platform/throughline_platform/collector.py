"""Python's garbage collector, set for a long-running server once its start-up is done."""

import gc

# Objects created since the collector's last pass before it passes again (Python's default: 700). A request
# allocates thousands of container objects (ORM state, pydantic models, ASGI scopes), so at 700 the collector
# ran several times within each request and traced objects that reference counting would free a moment later.
# At 20,000 most of a request's objects are gone before a pass: 2-5 % less CPU per won deal across the system
# (docs/perf-notes/collector.md), and the same peak memory.
YOUNG_GENERATION_THRESHOLD = 20_000


def settle_after_start_up() -> None:
    """Freeze what start-up built and collect the young generation less often.

    What start-up built (about 140,000 objects in the gateway: modules, routes, models) lives as long as the
    process. Frozen, it is left out of the collector's full passes, each of which otherwise stalls every request
    in flight for tens of milliseconds (measured 50-250 ms on the 2-CPU bench machine)."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
