"""Payments in bulk (`erp.banking.payments_in_bulk`, the import's fast path) make exactly what the invoices
package's own path (`apply_payment`, which manual matching takes) makes for the same payments: the invoice's
ledger, status and paid_at, the payment rows, and the payment.recorded and invoice.paid events.

Both run on the real ERP database inside units of work that are never committed, so nothing they write is seen by
other tests or published by the relay.
"""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devstack.stack import Stack
from erp.app import api_routers
from erp.banking.books import DEFAULT_BANK
from erp.banking.matching import Allocation, Decision, MatchMethod
from erp.banking.payments_in_bulk import Paying, record_payments
from erp.banking.repository import BankingRepository
from erp.banking.statement import Direction, StatementLine
from erp.clients.api import ClientRepository
from erp.db import outbox
from erp.invoices.api import PaymentMethod, apply_payment, locked_invoice
from tests.erp_billing.helpers import fixed, issued, line, project_for, today
from tests.support import Api
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.db import new_engine, new_session_factory

api_routers()  # every model of the ERP mapped, as in the service


@pytest.fixture(scope="module")
async def sessions(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = new_engine(stack.database_urls["erp"], pool_size=2)
    yield new_session_factory(engine)
    await engine.dispose()


def uow_on(sessions: async_sessionmaker[AsyncSession]) -> UnitOfWork:
    return UnitOfWork(sessions, OutboxWriter("erp", outbox, notify_channel="outbox_erp"))


# Two payments on each invoice: the first leaves a balance, the second settles it (invoice.paid).
PAYMENTS = [Decimal("100.00"), Decimal("200.00")]


def bank_line(amount: Decimal) -> StatementLine:
    return StatementLine(direction=Direction.CREDIT, amount=amount, currency="EUR",
                         booking_date=today() - timedelta(days=1), bank_reference="BANK-REF-1",
                         transaction_key="ref:BANK-REF-1")


async def what_was_made(uow: UnitOfWork, invoice_id: uuid.UUID) -> dict[str, Any]:
    """The invoice's ledger, its payments and the events staged for it, without what differs by nature (ids,
    numbers, timestamps)."""
    await uow.stage_events()
    session = uow.session
    invoice = (await session.execute(text(
        "SELECT amount_paid, balance_due, status, paid_at IS NOT NULL AS settled FROM invoices WHERE id = :id"),
        {"id": invoice_id})).mappings().one()
    payments = (await session.execute(text(
        "SELECT amount, currency, paid_on, method, reference, recorded_by FROM payments WHERE invoice_id = :id "
        "ORDER BY amount"), {"id": invoice_id})).mappings().all()
    events = (await session.execute(text(
        "SELECT event_type, topic, value FROM outbox WHERE message_key = :id "
        "AND event_type IN ('payment.recorded', 'invoice.paid') ORDER BY id"),
        {"id": str(invoice_id)})).mappings().all()
    differ = {"invoice_id", "number", "payment_id", "recorded_at", "paid_at", "company_id", "client_id",
              "project_id", "deal_id"}
    return {"invoice": dict(invoice), "payments": [dict(p) for p in payments],
            "events": [(e["event_type"], e["topic"],
                        {k: v for k, v in json.loads(e["value"])["data"].items() if k not in differ})
                       for e in events]}


async def test_bulk_payments_make_what_apply_payment_makes(sessions: async_sessionmaker[AsyncSession],
                                                           finance: Api, sales: Api) -> None:
    project = project_for(sales, fixed(1, today() + timedelta(days=365)))
    plain = issued(finance, project, [line(unit_price="300.00")])
    bulk = issued(finance, project, [line(unit_price="300.00")])

    async with uow_on(sessions) as uow:  # the plain path, one payment after the other
        invoice = await locked_invoice(uow, uuid.UUID(plain["id"]))
        await ClientRepository(uow.session).get(invoice.client_id)
        for amount in PAYMENTS:
            source = bank_line(amount)
            await apply_payment(uow, invoice, amount, source.booking_date, PaymentMethod.BANK_TRANSFER,
                                "BANK-REF-1", "finance-user", currency="EUR")
        by_hand = await what_was_made(uow, invoice.id)

    async with uow_on(sessions) as uow:  # the fast path, both at once
        repo = BankingRepository(uow.session)
        [row] = await repo.lock_candidates([bulk["payment_reference"]], [])
        paying = [Paying(uuid.uuid4(), bank_line(amount),
                         Decision((Allocation(row.id, amount),), MatchMethod.REFERENCE), DEFAULT_BANK)
                  for amount in PAYMENTS]
        matches = await record_payments(uow, repo, {row.id: row}, paying, "finance-user")
        assert [m["amount"] for m in matches] == PAYMENTS and all(m["invoice_id"] == row.id for m in matches)
        in_bulk = await what_was_made(uow, row.id)

    assert in_bulk == by_hand
    assert by_hand["invoice"]["status"] == "paid" and by_hand["invoice"]["settled"]
    assert [e[0] for e in by_hand["events"]] == ["payment.recorded", "payment.recorded", "invoice.paid"]
    assert [p["amount"] for p in by_hand["payments"]] == PAYMENTS
    # Neither unit of work committed: the invoices are as issued.
    assert finance.ok("GET", f"/api/erp/invoices/{plain['id']}")["status"] == "issued"
    assert finance.ok("GET", f"/api/erp/invoices/{bulk['id']}")["status"] == "issued"
