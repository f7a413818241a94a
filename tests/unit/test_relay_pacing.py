"""When the relay starts its next round (pure pacing logic: rounds and pauses are recorded, not run).

A busy relay, whose next commit was signalled while a round was out, lingers so that a few more commits join
the next round; a relay that had to wait for its next commit publishes it at once.
"""

import asyncio
from typing import Any

from sqlalchemy import MetaData

from throughline_messaging.relay import OutboxRelay
from throughline_messaging.tables import outbox_table
from throughline_platform.db import new_engine
from throughline_platform.event_signing import EventSigner, new_private_key_pem

LINGER = 0.002


class _PacedRelay(OutboxRelay):
    """Rounds publish what the test scripted; the relay's pauses are recorded and skipped."""

    def __init__(self, rounds: list[int]) -> None:
        url = "postgresql+asyncpg://user@nowhere/db"  # never connected to
        super().__init__(engine=new_engine(url), database_url=url, producer=None,
                         outbox=outbox_table(MetaData()), service="test", notify_channel="outbox_test",
                         signer=EventSigner.from_pem("test-key", "test", new_private_key_pem()),
                         poll_interval=5.0, linger=LINGER)
        self.rounds = rounds
        self.log: list[str] = []

    async def publish_batch(self, conn: Any) -> int:
        published = self.rounds.pop(0) if self.rounds else 0
        self.log.append(f"round {published}")
        if not self.rounds:
            await self.stop()
        return published

    async def _sleep(self, seconds: float) -> None:
        self.log.append(f"linger {seconds}")


async def test_a_busy_relay_lingers_before_its_next_round() -> None:
    relay = _PacedRelay(rounds=[2, 3])
    relay.signal.set()  # a commit arrived while the first round was out
    await asyncio.wait_for(relay._publish_until_stopped(conn=None), 5)
    assert relay.log == ["round 2", f"linger {LINGER}", "round 3", "round 0"]


async def test_a_relay_that_waited_for_a_commit_publishes_it_at_once() -> None:
    relay = _PacedRelay(rounds=[2, 3])

    async def commit_later() -> None:
        await asyncio.sleep(0.05)
        relay.signal.set()

    later = asyncio.create_task(commit_later())
    await asyncio.wait_for(relay._publish_until_stopped(conn=None), 5)
    await later
    assert relay.log == ["round 2", "round 3", "round 0"]
