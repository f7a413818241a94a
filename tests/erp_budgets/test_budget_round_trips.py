"""The budgets' statements per request (issue 23's speed goal: one project's figures p95 <= 20 ms): a project's
figures are one statement (decision 201), and the threshold check locks and reads any number of projects in two
(decision 200). Counted in the process by an event listener on an engine over the test stack's PostgreSQL."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.stack import Stack
from erp.budgets import service
from tests.erp_costs.helpers import RoleApi, as_role, new_client, new_project
from tests.statements_sent import statements_sent
from throughline_platform.db import new_engine


@pytest.fixture
async def engine(stack: Stack) -> AsyncIterator[AsyncEngine]:
    engine = new_engine(stack.database_urls["erp"], pool_size=2)
    yield engine
    await engine.dispose()


async def test_figures_in_one_statement_and_thresholds_in_two(stack: Stack, boss: RoleApi,
                                                               engine: AsyncEngine) -> None:
    pm = as_role(stack, "project_manager")
    client = new_client(boss, stack, currency="EUR")
    projects = [uuid.UUID(new_project(pm, client["id"])["id"]) for _ in range(3)]
    today = datetime.now(UTC).date()

    figures, sent = await statements_sent(engine, lambda uow: service.figures(uow, projects[0], today))
    assert figures.project_id == projects[0] and figures.hours.budget == 100
    assert len(sent) == 1, sent

    _, sent = await statements_sent(engine, lambda uow: service.check_thresholds(uow, reversed(projects)))
    assert len(sent) == 2 and "pg_advisory_xact_lock" in sent[0], sent
    _, sent = await statements_sent(engine, lambda uow: service.check_thresholds(uow, []))
    assert sent == []
