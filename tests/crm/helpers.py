"""Helpers for the CRM tests: callers in any role, direct CRM access for the public endpoint."""

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx

from devstack.stack import Stack
from gateway.credentials.tokens import TokenIssuer
from tests.support import Api

CAPTURE_KEY = "crm-test-capture-key"
RATE_LIMITED_KEY = "crm-test-rate-limited-key"
INBOUND_SECRET = "crm-test-inbound-secret-0123456789"
DAILY_LIMIT = 4


def token_for(stack: Stack, role: str, user_id: str | None = None, kind: str = "user") -> str:
    private, _ = stack.keys()
    issuer = TokenIssuer(private, timedelta(minutes=30), timedelta(days=1))
    uid = user_id or f"{role}-{uuid.uuid4().hex[:6]}"
    return issuer.access_token(user_id=uid, email=f"{uid}@example.com", role=role, kind=kind)


def as_role(stack: Stack, role: str, user_id: str | None = None, *, via_gateway: bool = False) -> Api:
    """A caller in `role`. The CRM verifies the gateway-signed token itself, so the CRM area tests talk to the
    CRM service directly (the gateway's own behaviour is tested in tests/gateway); the lead-to-cash story goes
    through the gateway."""
    port = stack.ports.gateway if via_gateway else stack.ports.crm
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15)
    token = token_for(stack, role, user_id)
    client.headers["Authorization"] = f"Bearer {token}"
    return Api(client, token)


def crm_direct(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.crm}", timeout=15)


def suffix() -> str:
    return uuid.uuid4().hex[:10]


def new_lead(api: Api, **fields: Any) -> dict[str, Any]:
    s = suffix()
    body = {"first_name": "Ada", "last_name": f"Lovelace {s}", "email": f"ada-{s}@analytical-{s}.example",
            "company_name": f"Analytical {s}", "source": "referral", **fields}
    lead: dict[str, Any] = api.ok("POST", "/api/crm/leads", 201, json=body)
    return lead


def outbox_events(stack: Stack, aggregate_id: str) -> list[str]:
    """Event types staged in the CRM outbox for one aggregate, in order."""
    assert stack.postgres is not None
    out = stack.postgres.psql(
        "crm", f"SELECT event_type FROM outbox WHERE message_key = '{aggregate_id}' ORDER BY id")
    return [line.strip() for line in out.splitlines() if line.strip()]


def add_erp_fact(stack: Stack, kind: str, company_id: str, deal_id: str | None, summary: str) -> None:
    """Insert a row as the CRM consumer does on an ERP event (timeline tests that must not depend on the ERP)."""
    assert stack.postgres is not None
    deal = f"'{deal_id}'" if deal_id else "NULL"
    stack.postgres.psql("crm", (
        "INSERT INTO erp_facts (id, kind, company_id, deal_id, summary, data, occurred_at, source_event_id) "
        f"VALUES (gen_random_uuid(), '{kind}', '{company_id}', {deal}, '{summary}', '{{}}', now(), gen_random_uuid())"))


def age_deal(stack: Stack, deal_id: str, days: int) -> None:
    """Pretend the deal was created, and last touched, `days` days ago."""
    assert stack.postgres is not None
    stack.postgres.psql("crm", f"UPDATE deals SET created_at = now() - interval '{days} days', "
                               f"last_activity_at = NULL WHERE id = '{deal_id}'")


def outbox_envelopes(stack: Stack, aggregate_id: str) -> list[dict[str, Any]]:
    """The envelopes staged in the CRM outbox for one aggregate, in order."""
    assert stack.postgres is not None
    out = stack.postgres.psql("crm", "SELECT convert_from(value, 'UTF8') FROM outbox "
                                     f"WHERE message_key = '{aggregate_id}' ORDER BY id")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def pipeline_of_its_own(api: Api) -> dict[str, Any]:
    """Talking (open) -> Signed (won) | Gone (lost): no automation rule names its stages."""
    pipeline: dict[str, Any] = api.ok("POST", "/api/crm/pipelines", 201, json={
        "name": f"Win path {suffix()}", "stages": [
            {"name": "Talking", "probability": "30"},
            {"name": "Signed", "probability": "100", "kind": "won"},
            {"name": "Gone", "probability": "0", "kind": "lost"}]})
    return pipeline
