"""The client replica on the real broker: contacts replicated, out-of-order versions ignored, deletions kept,
a company's events racing a won deal's never make two clients, and versions implausibly far ahead refused."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, as_role, sql
from tests.kafka_support import publish_raw, read_topic, wait_until
from tests.support import wait_for
from throughline_events import Envelope, encode

ACCOUNTS, DEALS = "crm.account.events", "crm.deal.events"


async def publish(stack: Stack, topic: str, event_type: str, aggregate: str, aggregate_id: uuid.UUID,
                  data: dict[str, Any], key: uuid.UUID | None = None) -> None:
    envelope = Envelope(event_id=uuid.uuid4(), event_type=event_type, event_version=1,
                        occurred_at=datetime.now(UTC), producer="crm", aggregate_type=aggregate,
                        aggregate_id=aggregate_id, data=data)
    await publish_raw(stack.bootstrap_servers, topic, encode(envelope), str(key or aggregate_id).encode(),
                      [("event_id", str(envelope.event_id).encode()), ("event_type", event_type.encode()),
                       ("event_version", b"1")], signer=stack.event_signer("crm"))


def company(company_id: uuid.UUID, version: int, name: str) -> dict[str, Any]:
    return {"company_id": str(company_id), "name": name, "version": version,
            "changed_at": datetime.now(UTC).isoformat()}


def contact(contact_id: uuid.UUID, company_id: uuid.UUID, version: int, first: str, **extra: Any) -> dict[str, Any]:
    return {"contact_id": str(contact_id), "company_id": str(company_id), "first_name": first, "last_name": "Lee",
            "email": f"{first.lower()}@example.com", "version": version, "changed_at": datetime.now(UTC).isoformat(),
            **extra}


def client_of(api: RoleApi, company_id: uuid.UUID, version: int) -> dict[str, Any] | None:
    for item in api.ok("GET", "/api/erp/clients", params={"limit": 200, "q": str(company_id)[:8]})["items"]:
        if item["crm_company_id"] == str(company_id) and item["crm_version"] >= version:
            return item  # type: ignore[no-any-return]
    return None


async def test_contacts_and_out_of_order_versions(stack: Stack, boss: RoleApi) -> None:
    viewer = as_role(stack, "viewer")
    company_id, kept_id, gone_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tag = str(company_id)[:8]
    # All on one key (one partition), so the order below is the order of delivery. Newest first: version 3,
    # then the stale versions 1 and 2 arrive late; the same for a contact; another contact is deleted.
    events = [
        ("company.updated", "company", company_id, company(company_id, 3, f"{tag} Final")),
        ("company.created", "company", company_id, company(company_id, 1, f"{tag} First")),
        ("company.updated", "company", company_id, company(company_id, 2, f"{tag} Second")),
        ("contact.updated", "contact", kept_id, contact(kept_id, company_id, 2, "Newer")),
        ("contact.created", "contact", kept_id, contact(kept_id, company_id, 1, "Older")),
        ("contact.created", "contact", gone_id, contact(gone_id, company_id, 1, "Gone")),
        ("contact.updated", "contact", gone_id, contact(gone_id, company_id, 2, "Gone", deleted=True)),
    ]
    marker = uuid.uuid4()  # published last: once it is applied, everything before it was too
    events.append(("contact.created", "contact", marker, contact(marker, company_id, 1, "Marker")))
    for event_type, aggregate, aggregate_id, data in events:
        await publish(stack, ACCOUNTS, event_type, aggregate, aggregate_id, data, key=company_id)

    def settled() -> list[dict[str, Any]] | None:
        client = client_of(viewer, company_id, 3)
        if client is None:
            return None
        contacts: list[dict[str, Any]] = viewer.ok("GET", f"/api/erp/clients/{client['id']}/contacts",
                                                   params={"include_deleted": "true"})
        return contacts if str(marker) in {c["crm_contact_id"] for c in contacts} else None

    contacts = await asyncio.to_thread(wait_for, settled, 20, "the replica to settle")
    client = client_of(viewer, company_id, 3)
    assert client is not None and client["name"] == f"{tag} Final" and client["crm_version"] == 3
    by_id = {c["crm_contact_id"]: c for c in contacts}
    assert (by_id[str(kept_id)]["name"], by_id[str(kept_id)]["crm_version"]) == ("Newer Lee", 2)
    assert by_id[str(gone_id)]["crm_deleted"] is True
    visible = viewer.ok("GET", f"/api/erp/clients/{client['id']}/contacts")
    assert str(gone_id) not in {c["crm_contact_id"] for c in visible}


async def test_company_event_racing_a_won_deal_makes_one_client(stack: Stack, boss: RoleApi) -> None:
    company_id, deal_id = uuid.uuid4(), uuid.uuid4()
    tag = str(company_id)[:8]
    won = {"deal_id": str(deal_id), "title": f"Race {tag}", "company": {"id": str(company_id), "name": f"{tag} Co"},
           "contact": None, "amount": "1000.00", "currency": "EUR", "owner_id": None,
           "won_at": datetime.now(UTC).isoformat(), "billing": None}
    await asyncio.gather(
        publish(stack, DEALS, "deal.won", "deal", deal_id, won),
        publish(stack, ACCOUNTS, "company.created", "company", company_id, company(company_id, 1, f"{tag} Co Ltd")),
    )

    def done() -> bool:
        return bool(client_of(boss, company_id, 1)) and bool(
            boss.ok("GET", "/api/erp/projects", params={"deal_id": str(deal_id)})["total"])

    await asyncio.to_thread(wait_for, done, 20, "the client and the project")
    rows = sql(stack, f"SELECT id, name FROM clients WHERE crm_company_id = '{company_id}'")
    assert len(rows) == 1 and rows[0][1] == f"{tag} Co Ltd"
    [project] = boss.ok("GET", "/api/erp/projects", params={"deal_id": str(deal_id)})["items"]
    assert project["client_id"] == rows[0][0]


async def test_a_version_far_ahead_is_dead_lettered_and_later_real_changes_still_apply(
        stack: Stack, boss: RoleApi) -> None:
    """A company.updated whose version is implausibly far ahead (a buggy or forged producer: the CRM adds one per
    change) goes to the dead-letter topic at once with reason `implausible_version`; it does not pin the replica,
    so the real rename after it is applied. The same for contacts."""
    viewer = as_role(stack, "viewer")
    company_id, contact_id = uuid.uuid4(), uuid.uuid4()
    tag = str(company_id)[:8]
    await publish(stack, ACCOUNTS, "company.created", "company", company_id, company(company_id, 1, f"{tag} Real"))
    await publish(stack, ACCOUNTS, "company.updated", "company", company_id,
                  company(company_id, 2_000_000_000, f"{tag} Forged"))
    await publish(stack, ACCOUNTS, "contact.created", "contact", contact_id,
                  contact(contact_id, company_id, 1_001, "Forged"), key=company_id)  # 1001 > 0 + 1000
    await publish(stack, ACCOUNTS, "company.updated", "company", company_id, company(company_id, 2, f"{tag} Renamed"))

    renamed = await asyncio.to_thread(wait_for, lambda: client_of(viewer, company_id, 2), 20, "the real rename")
    assert (renamed["name"], renamed["crm_version"]) == (f"{tag} Renamed", 2)
    contacts = viewer.ok("GET", f"/api/erp/clients/{renamed['id']}/contacts", params={"include_deleted": "true"})
    assert str(contact_id) not in {c["crm_contact_id"] for c in contacts}

    async def parked() -> list[dict[str, bytes]] | None:
        letters = [dict(r.headers) for r in await read_topic(stack.bootstrap_servers, f"{ACCOUNTS}.erp.dlt")
                   if r.key == str(company_id).encode()]
        return letters if len(letters) == 2 else None

    letters = await wait_until(parked, 20, "both implausible events in the dead-letter topic")
    assert {h["dlt.reason"] for h in letters} == {b"implausible_version"}
    assert {h["event_type"] for h in letters} == {b"company.updated", b"contact.created"}
    assert all(b"more than 1000 ahead" in h["dlt.error"] for h in letters)
