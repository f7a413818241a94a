"""Keeping the client replica in step with CRM companies, whatever order the events arrive in."""

import uuid
from datetime import datetime

from erp.clients.models import Client
from erp.clients.repository import ClientRepository
from erp.db import utcnow


async def apply_company_state(clients: ClientRepository, *, company_id: uuid.UUID, version: int, name: str,
                              email: str | None, phone: str | None, address: str | None,
                              deleted: bool = False) -> Client:
    """Create or update the replica; a version not newer than the one we hold changes nothing."""
    client = await clients.by_crm_company(company_id, for_update=True)
    if client is None:
        client = Client(id=uuid.uuid4(), crm_company_id=company_id, name=name, crm_version=0)
        clients.add(client)
    if version <= client.crm_version:
        return client
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
        client = Client(id=uuid.uuid4(), crm_company_id=company_id, name=name, crm_version=0,
                        replicated_at=seen_at)
        clients.add(client)
    return client
