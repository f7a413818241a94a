"""Helpers the cross-service tests share: an API client logged in through the gateway, waiting, Kafka reads."""

import time
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Self, TypeVar

import httpx

from devstack.stack import Stack

T = TypeVar("T")


class Api:
    """An httpx client on the gateway carrying one user's bearer token."""

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client = client
        self.token = token

    @classmethod
    def login(cls, stack: Stack, email: str, password: str) -> Self:
        client = httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.gateway}", timeout=15)
        response = client.post("/api/auth/token", data={"username": email, "password": password})
        response.raise_for_status()
        token = response.json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        return cls(client, token)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, **kwargs)

    def ok(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    # --- the usual story ------------------------------------------------------------------------

    def new_company(self, name: str | None = None) -> dict[str, Any]:
        suffix = uuid.uuid4().hex[:10]
        company: dict[str, Any] = self.ok("POST", "/api/crm/companies", 201,
                                          json={"name": name or f"Studio {suffix}",
                                                "domain": f"studio-{suffix}.example"})
        return company

    def new_deal(self, company_id: str, amount: str = "12000.00", currency: str = "EUR",
                 billing: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        body = {"title": f"Website {uuid.uuid4().hex[:6]}", "company_id": company_id, "amount": amount,
                "currency": currency, **extra}
        if billing is not None:
            body["billing"] = billing
        deal: dict[str, Any] = self.ok("POST", "/api/crm/deals", 201, json=body)
        return deal

    def won_deal(self, billing: dict[str, Any] | None = None, amount: str = "12000.00", **kw: Any) -> dict[str, Any]:
        company = self.new_company()
        deal = self.new_deal(company["id"], amount=amount, billing=billing or fixed_terms(1), **kw)
        return self.ok("POST", f"/api/crm/deals/{deal['id']}/win")  # type: ignore[no-any-return]

    def project_of(self, deal_id: str, timeout: float = 15) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            items = self.ok("GET", "/api/erp/projects", params={"deal_id": deal_id})["items"]
            return items[0] if items else None

        return wait_for(found, timeout, f"a project for deal {deal_id}")


def fixed_terms(installments: int, start: date | None = None) -> dict[str, Any]:
    return {"type": "fixed", "installments": installments, "interval": "month",
            "start_date": (start or date(2026, 12, 1)).isoformat()}


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"gave up waiting {timeout}s for {what}")


def money(value: str) -> Decimal:
    return Decimal(value)


def ensure_person(stack: Stack, person_id: str, *, name: str | None = None, active: bool = True) -> None:
    """Make `person_id` an ERP person (active or not; one that exists stays as it is), as the gateway's `user.created`
    would have: for the tests that mint tokens for users the gateway never made (time and expenses are booked only for
    people, issue 23). The path through the gateway's events has its own tests
    (tests/integration/test_people_from_users.py)."""
    assert stack.postgres is not None, "these tests write the embedded ERP database"
    quoted = person_id.replace("'", "''")
    shown = (name or person_id).replace("'", "''")
    stack.postgres.psql("erp", f"""
        INSERT INTO people (id, name, email, role, active, user_changed_at)
        VALUES ('{quoted}', '{shown}', '{quoted}@example.com', 'member', {str(active).lower()}, now())
        ON CONFLICT (id) DO NOTHING""")


def person_of(api: Api, user_id: str, timeout: float = 20) -> dict[str, Any]:
    """The ERP's person of a user the gateway has just made: its `user.created` travels through the gateway's outbox
    and the broker first (issue 23), so time or an expense booked at once could find no person yet."""

    def found() -> dict[str, Any] | None:
        response = api.get(f"/api/erp/people/{user_id}")
        return response.json() if response.status_code == 200 else None

    return wait_for(found, timeout, f"the person of user {user_id}")
