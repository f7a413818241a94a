"""Extra gateway processes for the failure cases, each with its own env, started once for the gateway tests:

- `degraded`: the real CRM, but the ERP at a closed port (upstream down, circuit breaker, partial views);
- `edge`: the CRM is a fake upstream in this process (slow, holding, echoing), low limits (rate, body size),
  CORS for one origin.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from devstack.ports import free_port
from devstack.processes import ServiceProcess
from devstack.stack import Stack
from tests.gateway.helpers import FakeUpstream, start_fake_upstream

EDGE_TIMEOUT = 2.0
EDGE_RATE_LIMIT = 5
EDGE_KEY_RATE_LIMIT = 3
EDGE_MAX_BODY = 2048
EDGE_ORIGIN = "https://app.example"
DEGRADED_BREAKER_THRESHOLD = 3


@dataclass
class ExtraGateways:
    degraded: ServiceProcess
    edge: ServiceProcess
    fake: FakeUpstream


@pytest.fixture(scope="session")
def gateways(stack: Stack) -> Iterator[ExtraGateways]:
    fake = start_fake_upstream(slow_seconds=EDGE_TIMEOUT * 3)
    log_dir = stack.var_dir / "log"
    env = stack.common_env()
    degraded = ServiceProcess("gateway-degraded", ["gateway", "serve"], {
        **env, "GATEWAY_ERP_URL": f"http://127.0.0.1:{free_port()}",
        "GATEWAY_BREAKER_FAILURE_THRESHOLD": str(DEGRADED_BREAKER_THRESHOLD),
        "GATEWAY_BREAKER_COOLDOWN_SECONDS": "300", "GATEWAY_UPSTREAM_RETRIES": "1",
        "GATEWAY_HEALTH_URLS": "{}",
    }, free_port(), log_dir)
    edge = ServiceProcess("gateway-edge", ["gateway", "serve"], {
        **env, "GATEWAY_CRM_URL": fake.url, "GATEWAY_ERP_URL": f"http://127.0.0.1:{free_port()}",
        "GATEWAY_UPSTREAM_TIMEOUT_SECONDS": str(EDGE_TIMEOUT),
        "GATEWAY_RATE_LIMIT_PER_MINUTE": str(EDGE_RATE_LIMIT),
        "GATEWAY_API_KEY_RATE_LIMIT_PER_MINUTE": str(EDGE_KEY_RATE_LIMIT),
        "GATEWAY_MAX_BODY_BYTES": str(EDGE_MAX_BODY), "GATEWAY_CORS_ORIGINS": f'["{EDGE_ORIGIN}"]',
        "GATEWAY_BREAKER_FAILURE_THRESHOLD": "1000", "GATEWAY_HEALTH_URLS": "{}",
    }, free_port(), log_dir)
    try:
        degraded.start()
        edge.start()
        degraded.wait_ready("/health/live")
        edge.wait_ready("/health/live")
        yield ExtraGateways(degraded, edge, fake)
    finally:
        degraded.stop()
        edge.stop()
        fake.stop()
