"""Clients: a replica of the CRM's companies (kept by `replica`), plus the billing fields only the ERP keeps."""

import uuid
from datetime import date
from typing import Any

from erp.clients.models import Client, ClientContact
from erp.clients.repository import ClientRepository
from erp.clients.schemas import ClientBillingIn, ReminderPauseIn
from erp.company.api import defaults as company_defaults
from erp.taxes.api import TaxChoice, choice_of, default_choice, vat_country
from throughline_events import money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import NotFound, Unprocessable


async def get_client(uow: UnitOfWork, client_id: uuid.UUID) -> Client:
    client = await ClientRepository(uow.session).get(client_id)
    if client is None:
        raise NotFound(f"Client {client_id} does not exist.")
    return client


async def contacts_of(uow: UnitOfWork, client_id: uuid.UUID, include_deleted: bool) -> list[ClientContact]:
    client = await get_client(uow, client_id)
    if client.crm_company_id is None:
        return []  # a client entered in the ERP alone has no CRM contacts
    return await ClientRepository(uow.session).contacts_of(client.crm_company_id, include_deleted)


async def update_billing(uow: UnitOfWork, client_id: uuid.UUID, body: ClientBillingIn) -> Client:
    client = await get_client(uow, client_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("currency"):
        try:
            money.check_currency(changes["currency"])
        except ValueError as exc:
            raise Unprocessable(f"{exc}.") from None
    if changes.get("default_tax_rate_id") is not None:
        await choice_of(uow, changes["default_tax_rate_id"], field="default_tax_rate_id")
    if "payment_terms_days" in changes and changes["payment_terms_days"] is None:
        raise Unprocessable("payment_terms_days cannot be null.")
    for field, value in changes.items():
        setattr(client, field, value)
    await uow.commit()
    return client


async def pause_reminders(uow: UnitOfWork, client_id: uuid.UUID, body: ReminderPauseIn | None) -> Client:
    """Pause (a dispute, a promise to pay until a date) or, with None, resume a client's reminders."""
    client = await get_client(uow, client_id)
    client.reminder_pause = body.reason if body else None
    client.reminder_pause_until = body.until if body and body.reason == "promise" else None
    client.reminder_pause_note = body.note if body else None
    await uow.commit()
    return client


def reminders_paused(client: Client, as_of: date) -> bool:
    """Whether a reminder run as of `as_of` skips this client: a dispute always, a promise up to its day."""
    if client.reminder_pause == "dispute":
        return True
    return client.reminder_pause == "promise" and client.reminder_pause_until is not None \
        and as_of <= client.reminder_pause_until


async def default_tax(uow: UnitOfWork, client: Client, company_country: str | None = None) -> TaxChoice:
    """The tax of this client's lines that name no rate: its own default, else reverse charge proposed for a
    business client in another EU member state, else the default rate (erp.taxes.default_choice). Pass the
    company's country when it is at hand (a billing run asks for many clients)."""
    if company_country is None:
        company_country, _ = await company_defaults(uow)
    return await default_choice(uow, client_rate_id=client.default_tax_rate_id, client_vat_id=client.tax_id,
                                company_country=company_country)


def bill_to(client: Client) -> dict[str, Any]:
    """The client as an invoice keeps it when issued (invoices.bill_to): name, billing address (else the CRM's
    address), country (its own, else its EU VAT ID's), VAT ID."""
    address = (client.billing_address or "").strip() or (client.address or "").strip()
    return {"name": client.name, "address_lines": [line.strip() for line in address.splitlines() if line.strip()],
            "country": client.country or vat_country(client.tax_id), "vat_id": client.tax_id,
            "email": client.email}
