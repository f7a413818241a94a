"""The one-statement win: a fast path for the CRM's hottest write, measured (docs/perf-notes/win-path.md).

The plain win (deals/service.py, `win_deal(..., one_statement=False)`, what every win that fires an automation
rule does) runs in a transaction on the locked deal and lets the ORM write: BEGIN, the locked SELECT, the flush
(INSERT deal_stage_changes, UPDATE deals), the outbox INSERT, COMMIT, six round trips to PostgreSQL. A win that
fires no rule is instead read without a transaction and written here by one statement:

    WITH moved AS (UPDATE deals SET <changed columns> WHERE id = :deal_id AND status = 'open'
                   AND updated_at = :seen_updated_at RETURNING id),
         history AS (INSERT INTO deal_stage_changes SELECT moved.id, ... FROM moved)
    INSERT INTO outbox SELECT ... FROM unnest(...) WHERE EXISTS (SELECT FROM moved) AND <wake the relays>
    RETURNING id

two round trips in all (docs/benchmarks.md: crm-api -7 % CPU per win against the five of a locked win that
already wrote deal and history together). It writes only if the deal is still open and unchanged since it was
read (every change of a deal sets its updated_at); otherwise the service wins again under the lock, still
writing through here when no rule fires.

What it costs: it reads the changed columns from the session's attribute history and then tells the session
they are stored (`set_committed_value`), ORM internals the plain path does not touch. So it must write exactly
what the plain path writes: tests/crm/test_one_statement_win.py wins deals both ways and compares the deal,
its history row, its events and the automation firings.
"""

import uuid
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, exists, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from crm.db import outbox
from crm.deals.models import Deal, DealStageChange, DealStatus
from throughline_messaging.uow import insert_and_wake

# A history row's columns, its deal's id first (it comes from the UPDATE).
HISTORY_COLUMNS = ("deal_id", "id", "from_stage_id", "to_stage_id", "changed_by", "changed_at",
                   "seconds_in_previous_stage", "created_at", "updated_at")


@cache
def _win_statement(deal_columns: tuple[str, ...]) -> Insert:
    """The statement above. Built once per set of changed columns: a win changes one of two (with or without new
    billing terms)."""
    deals, history = cast(Table, Deal.__table__), cast(Table, DealStageChange.__table__)
    moved = (update(deals)
             .where(deals.c.id == bindparam("deal_id"), deals.c.status == DealStatus.OPEN,
                    deals.c.updated_at == bindparam("seen_updated_at", type_=deals.c.updated_at.type))
             .values({c: bindparam(f"deal_{c}", type_=deals.c[c].type) for c in deal_columns})
             .returning(deals.c.id).cte("moved"))
    row = select(moved.c.id, *(bindparam(f"change_{c}", type_=history.c[c].type) for c in HISTORY_COLUMNS[1:]))
    history_insert = insert(history).from_select(HISTORY_COLUMNS, row, include_defaults=False).cte("history")
    return (insert_and_wake(outbox, only_if=exists(select(moved.c.id)))
            .add_cte(history_insert).returning(outbox.c.id))


async def write_win(session: AsyncSession, deal: Deal, seen_updated_at: datetime, change: DealStageChange,
                    outbox_parameters: dict[str, Any]) -> bool:
    """Write the won deal's changed columns, its history row (never added to the session) and its events with
    one statement, if the deal is still open and unchanged since it was read (`seen_updated_at`); whether it
    was. Then tell the session the deal is stored as it is, so the flush skips it. Only for a deal that
    nothing changes afterwards in the unit of work (a win that fires no automation rule: rules change the
    deal through the ORM)."""
    changed = {a.key: a.value for a in inspect(deal).attrs if a.history.has_changes()}
    # What the flush would fill in from the column defaults.
    change.id, change.created_at, change.updated_at = uuid.uuid4(), change.changed_at, change.changed_at
    with session.no_autoflush:  # else the session would first UPDATE the deal itself
        written = (await session.execute(_win_statement(tuple(changed)), {
            "deal_id": deal.id, "seen_updated_at": seen_updated_at,
            **{f"deal_{c}": value for c, value in changed.items()},
            **{f"change_{c}": getattr(change, c) for c in HISTORY_COLUMNS[1:]},
            **outbox_parameters})).first()
    if written is None:
        return False
    for key, value in changed.items():
        set_committed_value(deal, key, value)
    return True
