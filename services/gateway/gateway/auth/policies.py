"""Every service's policy table, for the web app: what the caller's role may do, said by the services themselves.

The CRM and the ERP each answer `GET /api/<service>/policy` with their table (action -> roles); the gateway adds
its own. Tables are code, so they change only with a deployment: each is kept for a few minutes once fetched. A
service that cannot be asked is left out (and named), so that a login still works while the ERP is down."""

import time
from dataclasses import dataclass, field
from typing import Any

from gateway.policy import POLICY
from gateway.proxy.upstreams import Upstream, UpstreamError
from throughline_platform.auth import Principal

KEEP_SECONDS = 300.0
SERVICES = ("crm", "erp")


@dataclass
class PolicyTables:
    upstreams: dict[str, Upstream]
    _tables: dict[str, tuple[dict[str, list[str]], float]] = field(default_factory=dict)

    async def tables(self, principal: Principal) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
        """Each service's table ({"gateway": ..., "crm": ..., "erp": ...}) and the services that could not say."""
        result: dict[str, dict[str, list[str]]] = {"gateway": POLICY.as_table()}
        missing: list[str] = []
        for service in SERVICES:
            table = await self._table(service, principal)
            if table is None:
                missing.append(service)
            else:
                result[service] = table
        return result, missing

    async def _table(self, service: str, principal: Principal) -> dict[str, list[str]] | None:
        kept = self._tables.get(service)
        if kept is not None and time.monotonic() - kept[1] < KEEP_SECONDS:
            return kept[0]
        try:
            response = await self.upstreams[service].send(
                "GET", f"/api/{service}/policy", headers=[("authorization", f"Bearer {principal.token}")])
        except UpstreamError:
            return kept[0] if kept else None  # a table a little old beats none
        if response.status_code != 200:
            return kept[0] if kept else None
        table = _table_of(response.json())
        if table is None:
            return kept[0] if kept else None
        self._tables[service] = (table, time.monotonic())
        return table


def _table_of(body: Any) -> dict[str, list[str]] | None:
    actions = body.get("actions") if isinstance(body, dict) else None
    if not isinstance(actions, dict):
        return None
    return {str(action): [str(r) for r in roles] for action, roles in actions.items() if isinstance(roles, list)}
