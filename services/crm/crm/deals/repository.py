import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from sqlalchemy import Select, bindparam, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm.automation.api import win_rules_exist
from crm.companies.api import Company, Contact
from crm.deals.models import Deal, DealStageChange, DealStatus
from crm.deals.paging import Cursor, after, total_of
from crm.pipelines.api import Stage, StageKind


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

    async def search(self, *, status: str | None, stage_id: uuid.UUID | None, owner_id: str | None,
                     company_id: uuid.UUID | None, close_from: date | None, close_to: date | None,
                     sort: str, descending: bool, limit: int, offset: int, contact_id: uuid.UUID | None = None,
                     pipeline_id: uuid.UUID | None = None, idle_days: int | None = None,
                     now: datetime | None = None, cursor: Cursor | None = None, amount_min: Decimal | None = None,
                     amount_max: Decimal | None = None,
                     currency: str | None = None) -> tuple[list[Deal], int, bool]:
        """One page of the matching deals, their total and whether that total is an estimate (see paging)."""
        query = select(Deal)
        if amount_min is not None:
            query = query.where(Deal.amount >= amount_min)
        if amount_max is not None:
            query = query.where(Deal.amount <= amount_max)
        if currency:
            query = query.where(Deal.currency == currency)
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

    async def company_has_open_deals(self, company_id: uuid.UUID) -> bool:
        found = await self.session.execute(
            select(Deal.id).where(Deal.company_id == company_id, Deal.status == DealStatus.OPEN).limit(1))
        return found.first() is not None

    async def open_deals_in_stage(self, stage_id: uuid.UUID) -> int:
        return int((await self.session.execute(
            select(func.count()).select_from(Deal).where(Deal.stage_id == stage_id, Deal.status == DealStatus.OPEN)
        )).scalar_one())
