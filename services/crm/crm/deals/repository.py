import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Select, Table, bindparam, exists, func, insert, inspect, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from crm.automation.engine import win_rules_exist
from crm.companies.models import Company, Contact
from crm.db import outbox
from crm.deals.models import Deal, DealStageChange, DealStatus
from crm.deals.paging import Cursor, after, total_of
from crm.pipelines.models import Stage, StageKind
from throughline_messaging.uow import insert_and_wake


@dataclass(frozen=True)
class WinTarget:
    """A deal to win, with what the win reads besides the deal itself (see `for_win`)."""

    deal: Deal
    company_name: str | None  # None: the company was deleted
    contact: Contact | None  # None: no contact, or a deleted one
    previous_stage_name: str | None
    won_stage: Stage | None  # the pipeline's live won stage
    has_rules: bool  # an active automation rule fires on this win


@cache
def _for_win_statement(lock: bool) -> Select[Deal, str, datetime | None, Contact, str, Stage, bool]:
    """The deal with its company's name, its contact, its current stage's name, its pipeline's live won stage and
    whether an automation rule fires: one statement instead of one per lookup, since a win is the CRM's hottest
    write. With `lock`, only the deal row is locked (a second win of it waits here). Built once: composing a
    statement with a lateral join costs more CPU than running it."""
    won_stage = aliased(Stage, select(Stage).where(
        Stage.pipeline_id == Deal.pipeline_id, Stage.kind == StageKind.WON, Stage.archived_at.is_(None))
        .order_by(Stage.position).limit(1).lateral("won_stage"))
    previous = aliased(Stage, name="previous_stage")
    statement = (select(Deal, Company.name, Company.deleted_at, Contact, previous.name, won_stage,
                        win_rules_exist(won_stage.id))
                 .outerjoin(Company, Company.id == Deal.company_id)
                 .outerjoin(Contact, Contact.id == Deal.contact_id)
                 .outerjoin(previous, previous.id == Deal.stage_id)
                 .outerjoin(won_stage, true())
                 .where(Deal.id == bindparam("deal_id")))
    return statement.with_for_update(of=Deal) if lock else statement


# A history row's columns, its deal's id first (it comes from the UPDATE).
HISTORY_COLUMNS = ("deal_id", "id", "from_stage_id", "to_stage_id", "changed_by", "changed_at",
                   "seconds_in_previous_stage", "created_at", "updated_at")


@cache
def _win_statement(deal_columns: tuple[str, ...]) -> Insert:
    """The whole write of a win, one statement:

        WITH moved AS (UPDATE deals SET <deal_columns> WHERE id = :deal_id AND status = 'open'
                       AND updated_at = :seen_updated_at RETURNING id),
             history AS (INSERT INTO deal_stage_changes SELECT moved.id, ... FROM moved)
        INSERT INTO outbox SELECT ... FROM unnest(...) WHERE EXISTS (SELECT FROM moved) AND <wake the relays>
        RETURNING id

    Nothing is written unless the deal is still open and unchanged since it was read (every change of a deal sets
    its updated_at). Built once per set of changed columns: a win changes one of two (with or without new billing
    terms)."""
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


SORTABLE = {
    "created_at": Deal.created_at, "amount": Deal.amount, "expected_close_date": Deal.expected_close_date,
    "title": Deal.title, "updated_at": Deal.updated_at,
}
NULLABLE_SORTS = frozenset({"expected_close_date"})


class DealRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, deal: Deal) -> None:
        self.session.add(deal)

    def add_stage_change(self, change: DealStageChange) -> None:
        self.session.add(change)

    async def get(self, deal_id: uuid.UUID, *, for_update: bool = False) -> Deal | None:
        if for_update:
            return (await self.session.execute(
                select(Deal).where(Deal.id == deal_id).with_for_update())).scalars().first()
        return await self.session.get(Deal, deal_id)

    async def for_win(self, deal_id: uuid.UUID, *, lock: bool) -> WinTarget | None:
        """The deal, row-locked if asked, with what winning it reads (see `_for_win_statement`)."""
        row = (await self.session.execute(_for_win_statement(lock), {"deal_id": deal_id})).first()
        if row is None:
            return None
        deal, company_name, company_deleted_at, contact, previous_name, won, has_rules = row
        return WinTarget(
            deal=deal, company_name=company_name if company_deleted_at is None else None,
            contact=contact if contact is not None and contact.deleted_at is None else None,
            previous_stage_name=previous_name, won_stage=won, has_rules=bool(has_rules))

    async def write_win(self, deal: Deal, seen_updated_at: datetime, change: DealStageChange,
                        outbox_parameters: dict[str, Any]) -> bool:
        """Write the won deal's changed columns, its history row (never added to the session) and its events with
        one statement, if the deal is still open and unchanged since it was read (`seen_updated_at`); whether it
        was. Then tell the session the deal is stored as it is, so the flush skips it. Only for a deal that
        nothing changes afterwards in the unit of work (a win that fires no automation rule: rules change the
        deal through the ORM)."""
        changed = {a.key: a.value for a in inspect(deal).attrs if a.history.has_changes()}
        # What the flush would fill in from the column defaults.
        change.id, change.created_at, change.updated_at = uuid.uuid4(), change.changed_at, change.changed_at
        with self.session.no_autoflush:  # else the session would first UPDATE the deal itself
            written = (await self.session.execute(_win_statement(tuple(changed)), {
                "deal_id": deal.id, "seen_updated_at": seen_updated_at,
                **{f"deal_{c}": value for c, value in changed.items()},
                **{f"change_{c}": getattr(change, c) for c in HISTORY_COLUMNS[1:]},
                **outbox_parameters})).first()
        if written is None:
            return False
        for key, value in changed.items():
            set_committed_value(deal, key, value)
        return True

    async def search(self, *, status: str | None, stage_id: uuid.UUID | None, owner_id: str | None,
                     company_id: uuid.UUID | None, close_from: date | None, close_to: date | None,
                     sort: str, descending: bool, limit: int, offset: int, contact_id: uuid.UUID | None = None,
                     pipeline_id: uuid.UUID | None = None, idle_days: int | None = None,
                     now: datetime | None = None, cursor: Cursor | None = None) -> tuple[list[Deal], int, bool]:
        """One page of the matching deals, their total and whether that total is an estimate (see paging)."""
        query = select(Deal)
        if contact_id:
            query = query.where(Deal.contact_id == contact_id)
        if pipeline_id:
            query = query.where(Deal.pipeline_id == pipeline_id)
        if idle_days is not None and now is not None:
            # Matches the partial index ix_deals_open_activity.
            last = func.coalesce(Deal.last_activity_at, Deal.created_at)
            query = query.where(Deal.status == DealStatus.OPEN, last <= now - timedelta(days=idle_days))
        if status:
            query = query.where(Deal.status == status)
        if stage_id:
            query = query.where(Deal.stage_id == stage_id)
        if owner_id:
            query = query.where(Deal.owner_id == owner_id)
        if company_id:
            query = query.where(Deal.company_id == company_id)
        if close_from:
            query = query.where(Deal.expected_close_date >= close_from)
        if close_to:
            query = query.where(Deal.expected_close_date <= close_to)
        total, estimated = await total_of(self.session, query)
        column = SORTABLE[sort]
        nullable = sort in NULLABLE_SORTS
        # NULLS LAST only where a column can be null: spelled out on a NOT NULL column it would stop PostgreSQL
        # from reading the rows in the order of an index such as ix_deals_created_at.
        order = column.desc() if descending else column.asc()
        if nullable:
            order = order.nulls_last()
        if cursor is not None:
            query = query.where(after(cursor, column, descending=descending, nullable=nullable))
        page = query.order_by(order, Deal.id).limit(limit)
        if offset:
            # The page's ids first, then their rows: a deep offset then skips index entries, not whole rows.
            ids = query.with_only_columns(Deal.id).order_by(order, Deal.id).limit(limit).offset(offset)
            page = select(Deal).where(Deal.id.in_(ids.scalar_subquery())).order_by(order, Deal.id)
        return list((await self.session.execute(page)).scalars()), total, estimated

    async def stage_history(self, deal_id: uuid.UUID) -> list[DealStageChange]:
        return list((await self.session.execute(
            select(DealStageChange).where(DealStageChange.deal_id == deal_id).order_by(DealStageChange.changed_at)
        )).scalars())
