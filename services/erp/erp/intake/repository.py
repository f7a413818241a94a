"""The intake's one write of a run of won deals: their projects, schedules, schedule items and project.created
events in ONE statement (`won_deals_in_bulk` builds the rows)."""

import uuid
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CTE, ColumnElement, Select, Table, Text, Uuid, all_, bindparam, insert, select
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TableValuedAlias

from erp.billing.api import BillingSchedule, ScheduleItem
from erp.db import outbox
from erp.projects.api import BudgetLine, Project
from throughline_messaging.bulk import chained_arrays, insert_from_arrays, part_prefix
from throughline_messaging.uow import insert_and_wake


class IntakeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_new(self, projects: list[dict[str, Any]], schedules: list[dict[str, Any]],
                         items: list[dict[str, Any]], events: dict[str, Any] | None = None) -> set[uuid.UUID]:
        """Projects with their schedules and schedule items, as rows (every column given), except a project whose
        deal already has one, and that project's schedule and items; returns the deals whose projects it
        inserted. ONE statement for the three tables whatever the number of rows (see `_insert_new_projects`),
        and for the outbox rows of `events` (`UnitOfWork.outbox_parameters`), of which those of a project left
        out are left out too.

        Asking first which deals have projects cost a statement of its own, and its plan went wrong: prepared on
        a new, still empty table, PostgreSQL kept a generic plan that read all of `projects` for every run of
        won deals until the table was first analysed (777 scans reading 1.1 million rows in one benchmark run)."""
        if not projects:
            return set()
        shape = (tuple(projects[0]), tuple(schedules[0]), tuple(items[0]) if items else ())
        parameters = chained_arrays([(projects, shape[0]), (schedules, shape[1]), (items, shape[2])])
        statement = _insert_new_projects(shape, with_events=events is not None)
        inserted = await self.session.execute(statement, {**parameters, **(events or {})})
        return set(inserted.scalars())

    async def insert_budget_lines(self, rows: list[dict[str, Any]]) -> None:
        """The budget lines of projects just inserted (a won quote's lines), one INSERT."""
        await self.session.execute(insert(BudgetLine), rows)


@lru_cache(maxsize=8)
def _insert_new_projects(shape: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], *,
                         with_events: bool) -> Select[uuid.UUID]:
    """`WITH new_projects AS (INSERT INTO projects ... ON CONFLICT (deal_id) DO NOTHING RETURNING id, deal_id),
    new_schedules AS (INSERT INTO billing_schedules ...), new_items AS (INSERT INTO schedule_items ...),
    new_events AS (INSERT INTO outbox ...) SELECT deal_id FROM new_projects`; without items (a run of
    time-and-materials deals only), without the items part; without events, without the last part. The parts
    bind their arrays as `chained_arrays` names them, the events theirs as `UnitOfWork.outbox_parameters` does.

    The unique index on `projects.deal_id` decides which projects are new, also against a peer inserting the
    same deal at the same moment (ON CONFLICT waits for it). A schedule is left out with the project it came
    with, an item with its schedule, an event with the project it is keyed by (project.created); a row referring
    to anything else is inserted, so that its foreign key is checked when the statement ends (when all its rows
    exist) and a reference to a row that exists nowhere fails instead of vanishing. Writing the events here
    rather than at COMMIT saves the transaction a round trip before its projects become visible. Built once per
    shape, like the bulk statements."""
    project_columns, schedule_columns, item_columns = shape
    projects, schedules, items = (cast(Table, model.__table__) for model in (Project, BillingSchedule, ScheduleItem))
    new_projects = (insert_from_arrays(projects, project_columns, part_prefix(0))
                    .on_conflict_do_nothing(index_elements=[projects.c.deal_id])
                    .returning(projects.c.id, projects.c.deal_id).cte("new_projects"))
    new_schedules = (insert_from_arrays(schedules, schedule_columns, part_prefix(1),
                                        where=lambda rows: _unless_left_out(rows.c.project_id, new_projects, 0))
                     .returning(schedules.c.id).cte("new_schedules"))
    statement = select(new_projects.c.deal_id).add_cte(new_schedules)
    if item_columns:
        new_items = insert_from_arrays(items, item_columns, part_prefix(2),
                                       where=lambda rows: _unless_left_out(rows.c.schedule_id, new_schedules, 1))
        statement = statement.add_cte(new_items.cte("new_items"))
    if with_events:
        project_keys = cast_(new_projects.c.id, Text())
        offered_keys = cast_(bindparam(part_prefix(0) + "id", type_=ARRAY(Uuid())), ARRAY(Text()))

        def keep(rows: TableValuedAlias) -> ColumnElement[bool]:
            key = rows.c.message_key
            return key.in_(select(project_keys)) | (key != all_(offered_keys))

        statement = statement.add_cte(insert_and_wake(outbox, keep=keep).cte("new_events"))
    return statement


def _unless_left_out(reference: ColumnElement[uuid.UUID], inserted: CTE, part: int) -> ColumnElement[bool]:
    """The row's parent was inserted, or was not among the rows offered in `part` (the ids bound there)."""
    offered = bindparam(part_prefix(part) + "id", type_=ARRAY(Uuid()))
    return reference.in_(select(inserted.c.id)) | (reference != all_(offered))
