"""Prometheus metrics of messaging (outbox, relay, consumer), labelled by service."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter("outbox_events_published_total", "Outbox rows published to Kafka", ["service"])
RELAY_BATCHES = Counter("outbox_relay_batches_total", "Relay rounds that published rows (events per round: "
                        "outbox_events_published_total / this)", ["service"])
RELAY_ERRORS = Counter("outbox_relay_errors_total", "Relay rounds that failed and will be retried", ["service"])
OUTBOX_UNPUBLISHED = Gauge("outbox_unpublished", "Outbox rows not yet published", ["service"])

EVENTS_CONSUMED = Counter("events_consumed_total", "Events handled (effects committed)",
                          ["service", "event_type"])
EVENTS_DUPLICATE = Counter("events_duplicate_total", "Events skipped because the inbox had them", ["service"])
EVENTS_IGNORED = Counter("events_ignored_total", "Events of types this consumer does not handle", ["service"])
EVENTS_DEAD_LETTERED = Counter("events_dead_lettered_total", "Events sent to a dead-letter topic",
                               ["service", "reason"])
CONSUMER_BATCH_SECONDS = Histogram("consumer_batch_seconds", "Time to handle one consumed batch", ["service"])
