"""deal.won envelopes for the consumer and handler tests: fixed won date, the billing terms of every kind."""

import uuid
from datetime import UTC, datetime
from typing import Any

from throughline_events import Envelope
from throughline_events.crm import DealWonV1

WON_AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
TERMS: list[dict[str, Any] | None] = [
    {"type": "fixed", "installments": 3, "interval": "month", "start_date": "2026-12-31"},
    {"type": "milestones", "milestones": [{"name": "Kickoff", "percent": "30", "due_date": "2026-12-01"},
                                          {"name": "Launch", "percent": "70", "due_date": None}]},
    {"type": "retainer", "amount": "500.00", "interval": "quarter", "count": 2, "start_date": "2027-01-31"},
    {"type": "time_and_materials", "hourly_rate": "120.00", "cap": "2000.00"},
    None,  # one installment of the full amount on the won date
]


# The lines of an accepted quote (deal.won's optional `lines`, issue 25), before the quote's discount.
QUOTE_LINES: list[dict[str, Any]] = [
    {"description": "Discovery workshop", "quantity": "1", "unit": "fixed", "unit_price": "300.00", "amount": "300.00"},
    {"description": "Design and build", "quantity": "7.5", "unit": "hours", "unit_price": "120.00", "amount": "900.00"},
]


def won_envelope(deal_id: uuid.UUID, company_id: uuid.UUID, n: int, *, title: str | None = None,
                 company_name: str | None = None, lines: list[dict[str, Any]] | None = None) -> Envelope:
    won = DealWonV1.model_validate({
        "deal_id": str(deal_id), "title": title or f"Deal {n}", "amount": f"{1000 + n}.01", "currency": "EUR",
        "company": {"id": str(company_id), "name": company_name or f"Company of deal {n}"},
        "owner_id": f"owner-{n}", "won_at": WON_AT.isoformat(), "billing": TERMS[n % len(TERMS)],
        **({"lines": lines} if lines is not None else {}),
    })
    return Envelope(event_id=uuid.uuid4(), event_type="deal.won", event_version=1, occurred_at=WON_AT,
                    producer="crm", aggregate_type="deal", aggregate_id=deal_id, correlation_id=f"request-{n}",
                    data=won.model_dump(mode="json"))
