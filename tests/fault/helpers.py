"""Fault-injection helpers: a background thread that keeps winning deals, and the end-state checks."""

import asyncio
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from devstack.postgres import EmbeddedPostgres
from devstack.processes import ServiceProcess
from devstack.stack import Stack
from tests.kafka_support import read_topic
from tests.support import fixed_terms

DEAD_LETTER_TOPICS = ("crm.deal.events.erp.dlt", "crm.account.events.erp.dlt",
                      "erp.project.events.crm.dlt", "erp.invoice.events.crm.dlt")


class DealWinner(threading.Thread):
    """Wins deals through the gateway in a loop (company, deal, win) until stopped; pausable.

    Errors are counted, not raised: during a fault some requests may fail, and the truth about which
    deals were won is read back from the CRM database afterwards.
    """

    def __init__(self, gateway_url: str, token: str, pace: float = 0.02) -> None:
        super().__init__(name="deal-winner", daemon=True)
        self.client = httpx.Client(base_url=gateway_url, timeout=15,
                                   headers={"Authorization": f"Bearer {token}"})
        self.pace = pace
        self.won = 0
        self.errors = 0
        self._running = threading.Event()
        self._cycle = threading.Lock()  # held while one company/deal/win cycle is in flight
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                if not self._running.wait(0.1):
                    continue
                with self._cycle:
                    if not self._running.is_set():
                        continue
                    try:
                        self._win_one()
                        self.won += 1
                    except (httpx.HTTPError, AssertionError):
                        self.errors += 1
                time.sleep(self.pace)
        finally:
            self.client.close()

    def _win_one(self) -> None:
        suffix = uuid.uuid4().hex[:10]
        company = self._post("/api/crm/companies", {"name": f"Fault {suffix}", "domain": f"f-{suffix}.example"})
        deal = self._post("/api/crm/deals", {"title": f"Deal {suffix}", "company_id": company["id"],
                                             "amount": "3000.00", "currency": "EUR", "billing": fixed_terms(3)})
        self._post(f"/api/crm/deals/{deal['id']}/win", None, expected=200)

    def _post(self, path: str, body: dict[str, Any] | None, expected: int = 201) -> dict[str, Any]:
        response = self.client.post(path, json=body)
        assert response.status_code == expected, f"{path}: {response.status_code} {response.text[:200]}"
        result: dict[str, Any] = response.json()
        return result

    def resume(self) -> None:
        self._running.set()

    def pause(self) -> None:
        """Stop starting new requests and wait for the one in flight."""
        self._running.clear()
        with self._cycle:
            pass

    def stop(self) -> None:
        self._halt.set()
        self._running.set()
        self.join(30)

    def wait_for_progress(self, more: int, timeout: float = 30) -> None:
        target = self.won + more
        deadline = time.monotonic() + timeout
        while self.won < target:
            assert time.monotonic() < deadline, f"the load made no progress ({self.won}/{target}, {self.errors} errors)"
            time.sleep(0.05)


def readiness(process: ServiceProcess) -> dict[str, Any]:
    try:
        body: dict[str, Any] = httpx.get(process.url + "/health/ready", timeout=3).json()
        return body
    except (httpx.HTTPError, ValueError):
        return {}


def consumer_stat(process: ServiceProcess, name: str) -> int:
    value = readiness(process).get("components", {}).get("consumer", {}).get(name)
    return int(value) if isinstance(value, int) else 0


@dataclass
class Figures:
    scenario: str
    deals_won: int
    projects: int
    schedules: int
    duplicates_skipped: int
    dead_letters: int
    recovery_seconds: float
    load_errors: int
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        extra = "".join(f" {k}={v}" for k, v in self.extra.items())
        return (f"[fault] {self.scenario:<34} deals_won={self.deals_won} projects={self.projects} "
                f"schedules={self.schedules} duplicates_skipped={self.duplicates_skipped} "
                f"dead_letters={self.dead_letters} recovery={self.recovery_seconds:.2f}s "
                f"load_errors={self.load_errors}{extra}")


class Consistency:
    """Reads the end state straight from the databases and the broker (the truth, not an API's view)."""

    def __init__(self, stack: Stack, servers: dict[str, EmbeddedPostgres]) -> None:
        self.stack = stack
        self.servers = servers  # database name -> the server holding it

    def psql(self, db: str, sql: str) -> str:
        return self.servers[db].psql(db, sql)

    def won_deals(self) -> set[str]:
        return set(self._column("crm", "SELECT id FROM deals WHERE status = 'won'"))

    def projects_per_deal(self) -> dict[str, int]:
        return self._counts("erp", "SELECT deal_id, count(*) FROM projects WHERE deal_id IS NOT NULL GROUP BY deal_id")

    def schedules_per_deal(self) -> dict[str, int]:
        return self._counts("erp", "SELECT p.deal_id, count(b.id) FROM projects p "
                                   "LEFT JOIN billing_schedules b ON b.project_id = p.id "
                                   "WHERE p.deal_id IS NOT NULL GROUP BY p.deal_id")

    def deals_with_empty_schedules(self) -> int:
        return int(self.psql("erp", "SELECT count(*) FROM billing_schedules b WHERE NOT EXISTS "
                                       "(SELECT 1 FROM schedule_items i WHERE i.schedule_id = b.id)").strip())

    def unpublished(self) -> dict[str, int]:
        return {db: int(self.psql(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL").strip())
                for db in ("crm", "erp")}

    def dead_letters(self) -> int:
        async def count() -> int:
            total = 0
            for topic in DEAD_LETTER_TOPICS:
                total += len(await read_topic(self.stack.bootstrap_servers, topic))
            return total

        return asyncio.run(count())

    def converged(self) -> bool:
        won = self.won_deals()
        projects = self.projects_per_deal()
        return won <= projects.keys() and not any(self.unpublished().values())

    def _column(self, db: str, sql: str) -> list[str]:
        return [line for line in self.psql(db, sql).splitlines() if line]

    def _counts(self, db: str, sql: str) -> dict[str, int]:
        rows = (line.split("|") for line in self._column(db, sql))
        return {key: int(value) for key, value in rows}


def wait_all_ready(processes: Iterable[ServiceProcess], timeout: float = 60) -> None:
    for process in processes:
        process.wait_ready("/health/live" if process.name == "gateway" else "/health/ready", timeout=timeout)
