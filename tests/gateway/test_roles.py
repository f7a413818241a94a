"""The role matrix of docs/roles.md, walked through the gateway: for each row's representative endpoint and
each role, an allowed role gets anything but 403 (and no 5xx), a refused role gets 403."""

import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from devstack.stack import Stack
from tests.gateway.helpers import ROLES, client, gateway_url, token_for

ROLES_DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
ROW = re.compile(r"^\|\s*`(?P<group>[a-z_.]+)`\s*\|\s*`(?P<method>[A-Z]+) (?P<path>[^`]+)`\s*\|(?P<cells>.*)\|\s*$")
ANY_ID = "00000000-0000-4000-8000-000000000000"


def _bodies() -> dict[str, Any]:
    """Valid request bodies, so that an allowed role is not refused for its body (the role is checked first)."""
    suffix = uuid.uuid4().hex[:8]
    return {
        "crm.companies.write": {"name": f"Roles Co {suffix}"},
        "crm.contacts.write": {"first_name": "Role", "last_name": f"Walker {suffix}"},
        "crm.leads.write": {"first_name": "Role", "company_name": f"Roles Lead {suffix}",
                            "email": f"lead-{suffix}@example.com"},
        "crm.pipelines.write": {"name": f"Pipeline {suffix}"},
        "crm.activities.write": {"kind": "note", "subject": "role matrix", "company_id": ANY_ID},
        "erp.projects.write": {"name": f"Project {suffix}"},
        "erp.payments.write": {"amount": "1.00"},
        "erp.credit_notes.write": {"reason": "role matrix", "amount": "1.00"},
        "erp.billing_runs.write": {"as_of": "2026-12-01", "issue": False, "project_id": ANY_ID},
        "erp.cost_centers.write": {"name": f"Center {suffix}"},
        "erp.clients.billing": {"tax_id": "DE123"},
        "erp.expenses.create": {"amount": "12.50", "currency": "EUR", "expense_date": "2026-11-02",
                                "merchant": "Role matrix cafe"},
    }


def matrix() -> list[tuple[str, str, str, set[str]]]:
    rows = []
    for line in ROLES_DOC.read_text().splitlines():
        match = ROW.match(line.strip())
        if match:
            cells = [c.strip() for c in match.group("cells").split("|")]
            assert len(cells) == len(ROLES) and set(cells) <= {"yes", "no"}, line
            allowed = {role for role, cell in zip(ROLES, cells, strict=True) if cell == "yes"}
            rows.append((match.group("group"), match.group("method"), match.group("path"), allowed))
    return rows


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_roles_doc_has_the_matrix() -> None:
    rows = matrix()
    assert len(rows) >= 20
    assert all("admin" in allowed for _, _, _, allowed in rows)
    assert {g for g, *_ in rows} >= {"gateway.users", "crm.read", "crm.companies.write", "erp.read",
                                     "erp.clients.billing", "erp.invoices.write", "erp.expenses.create"}


def test_role_matrix_walked_through_the_gateway(stack: Stack) -> None:
    base = gateway_url(stack)
    documented = {(_template(p), m.lower()) for p, item in httpx.get(base + "/openapi.json", timeout=15).json()
                  ["paths"].items() for m in item} | {("/api/customers/{}/overview", "get")}
    clients = {role: client(base, token=token_for(stack, role)) for role in ROLES}
    bodies = _bodies()
    walked, wrong = [], []
    try:
        for group, method, path, allowed in matrix():
            if (_template(path), method.lower()) not in documented:
                continue  # not deployed in this version; the count below keeps the walk from going hollow
            walked.append(group)
            url = path.replace("{id}", ANY_ID)
            for role in ROLES:
                response = clients[role].request(method, url, json=bodies.get(group))
                expected_forbidden = role not in allowed
                if response.status_code >= 500 or (response.status_code == 403) != expected_forbidden:
                    wrong.append(f"{group} {method} {url} as {role}: {response.status_code} {response.text[:200]}")
    finally:
        for c in clients.values():
            c.close()
    assert len(walked) >= 20, f"too few groups deployed: {walked}"
    assert not wrong, "\n".join(wrong)
