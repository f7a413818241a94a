"""Keeping the client replica in step with CRM companies and contacts, whatever order the events arrive in.

Each row is claimed with INSERT ... ON CONFLICT DO NOTHING and then locked, so two consumers racing on the
same new company (its company.created and a deal.won on another partition) never collide on the unique key:
one inserts, both then update under the row lock, and the higher version wins.

The higher version wins only within reason: the CRM adds one to a company's or contact's version per change, so a
version more than MAX_VERSION_JUMP ahead of the replica's is not a change we missed but a broken (or forged)
event. Applied, it would pin the replica: every real change after it carries a lower version and would be ignored
(a forged `company.updated` with version 2,000,000,000 made issued invoices show the forged name). It is refused
(`ImplausibleVersion`; the handler dead-letters it) and the replica stays as it was.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import Insert, insert

from erp.clients.models import Client, ClientContact
from erp.clients.repository import ClientRepository
from erp.db import utcnow
from throughline_messaging.bulk import arrays, insert_from_arrays

# Versions a replica may be behind and still take an event at once: events it never saw (dead-lettered, or gone
# from the topic before the ERP read them) leave gaps of a few versions; a thousand changes missed in one gap would
# be a thousand lost events, which the outbox and the inbox do not allow. A replica created from a won deal starts
# at version 0, so a company may have had up to this many changes before the ERP first hears of it.
MAX_VERSION_JUMP = 1000


class ImplausibleVersion(ValueError):
    """An event's version is too far ahead of the replica's to be a change we missed."""


def check_version(kind: str, record_id: uuid.UUID, held: int, version: int) -> None:
    if version > held + MAX_VERSION_JUMP:
        raise ImplausibleVersion(f"{kind} {record_id}: version {version} is more than {MAX_VERSION_JUMP} ahead of "
                                 f"the replica's {held}; refused as implausible")


async def _claim_client(clients: ClientRepository, company_id: uuid.UUID, name: str,
                        seen_at: datetime | None) -> Client:
    now = utcnow()
    await clients.session.execute(
        insert(Client).values(id=uuid.uuid4(), crm_company_id=company_id, name=name, crm_version=0,
                              crm_deleted=False, replicated_at=seen_at, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["crm_company_id"]))
    client = await clients.by_crm_company(company_id, for_update=True)
    assert client is not None  # inserted above or by a committed peer
    return client


async def apply_company_state(clients: ClientRepository, *, company_id: uuid.UUID, version: int, name: str,
                              email: str | None, phone: str | None, address: str | None,
                              deleted: bool = False) -> Client:
    """Create or update the replica; a version not newer than the one we hold changes nothing."""
    client = await clients.by_crm_company(company_id, for_update=True)
    if client is None:
        client = await _claim_client(clients, company_id, name, None)
    if version <= client.crm_version:
        return client
    check_version("company", company_id, client.crm_version, version)
    client.name, client.email, client.phone, client.address = name, email, phone, address
    client.crm_version = version
    client.crm_deleted = deleted
    client.replicated_at = utcnow()
    return client


async def client_for_company(clients: ClientRepository, company_id: uuid.UUID, name: str,
                             seen_at: datetime) -> Client:
    """The client of a won deal's company; created from the deal's company reference if the company
    event has not arrived yet (it will fill in the rest when it does: its version beats 0)."""
    client = await clients.by_crm_company(company_id, for_update=True)
    if client is None:
        client = await _claim_client(clients, company_id, name, seen_at)
    return client


@dataclass(frozen=True)
class CompanySeen:
    """A company as a won deal names it: enough to create its client if the company event is still to come."""

    name: str
    seen_at: datetime


# payment_terms_days is left out: its column default is the company's default terms.
_CLAIMED_CLIENT_COLUMNS = ("id", "crm_company_id", "name", "crm_version", "crm_deleted", "replicated_at",
                           "created_at", "updated_at")


@cache
def _claim_clients() -> Insert:
    """Built once: building the statement (and its cache key) per run cost more than running it."""
    return (insert_from_arrays(cast(Table, Client.__table__), _CLAIMED_CLIENT_COLUMNS)
            .on_conflict_do_nothing(index_elements=["crm_company_id"]))


async def clients_for_companies(clients: ClientRepository, companies: dict[uuid.UUID, CompanySeen]
                                ) -> dict[uuid.UUID, uuid.UUID]:
    """`client_for_company` for many companies at once (the client id of each): the missing clients are
    claimed with one INSERT ... ON CONFLICT DO NOTHING, then all are locked with one SELECT ... FOR UPDATE.
    Both go in company id order, so two consumers claiming overlapping companies cannot deadlock."""
    now = utcnow()
    ordered = sorted(companies)
    rows = [{"id": uuid.uuid4(), "crm_company_id": company_id, "name": companies[company_id].name, "crm_version": 0,
             "crm_deleted": False, "replicated_at": companies[company_id].seen_at,
             "created_at": now, "updated_at": now} for company_id in ordered]
    await clients.session.execute(_claim_clients(), arrays(rows, _CLAIMED_CLIENT_COLUMNS))
    found = await clients.ids_by_crm_companies(ordered, for_update=True)
    assert len(found) == len(ordered)  # inserted above or by a committed peer
    return found


async def apply_contact_state(clients: ClientRepository, *, contact_id: uuid.UUID, company_id: uuid.UUID | None,
                              version: int, name: str, email: str | None, phone: str | None,
                              deleted: bool = False) -> ClientContact:
    """Create or update a contact replica; older or repeated versions change nothing."""
    session = clients.session
    now = utcnow()
    await session.execute(
        insert(ClientContact).values(id=uuid.uuid4(), crm_contact_id=contact_id, crm_company_id=company_id,
                                     name=name, crm_version=0, crm_deleted=False, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["crm_contact_id"]))
    contact = (await session.execute(select(ClientContact).where(ClientContact.crm_contact_id == contact_id)
                                     .with_for_update().execution_options(populate_existing=True))).scalar_one()
    if version <= contact.crm_version:
        return contact
    check_version("contact", contact_id, contact.crm_version, version)
    contact.crm_company_id, contact.name, contact.email, contact.phone = company_id, name, email, phone
    contact.crm_version, contact.crm_deleted = version, deleted
    return contact
