"""Break the running system while deals are being won, then prove nothing was lost or doubled.

The suite starts its OWN stack (embedded PostgreSQL, embedded broker, CRM/ERP APIs and workers, the
gateway) so it can kill, freeze and cut it without disturbing the session's shared stack. A background
thread wins deals through the gateway the whole time. After each fault, with the load paused, it waits
for the system to converge and checks, from the databases themselves:
- every won deal (CRM) has exactly one project and one billing schedule with items (ERP);
- no outbox row is left unpublished, in either service;
- no good event went to a dead-letter topic (an outage is never the event's fault);
- every process reports ready again;
and prints the figures: deals won, projects, duplicates skipped, DLT entries, recovery time.

"Stop the ERP database": the session's embedded PostgreSQL serves all three databases, so this stack
gives the ERP database a PostgreSQL server of its own (as production has: one server per service) and
really stops it (fast shutdown: sessions cut, connections refused), then starts it again.
The embedded broker keeps its log in memory, so restarting it loses every topic, record and offset: the
restart is injected once the system has drained, and the topics are created again as the topic-init
job would; what it proves is that every client reconnects and work resumes (see docs/reliability.md).
"""

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crm.timeline.handlers import CONSUMED_TOPICS as crm_consumed
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.processes import ServiceProcess
from devstack.stack import Ports, Stack
from erp.handlers import CONSUMED_TOPICS as erp_consumed
from tests.fault.helpers import Consistency, DealWinner, Figures, consumer_stat, readiness, wait_all_ready
from tests.support import Api, wait_for
from throughline_messaging.kafka import KafkaSettings, ensure_topics, topics_for_group

pytestmark = pytest.mark.fault

ADMIN_PASSWORD = "fault-admin-password"
OUTAGE_SECONDS = 3.0
CONVERGE_SECONDS = 60.0


class FaultRig:
    def __init__(self, stack: Stack, erp_db: EmbeddedPostgres, api: Api, load: DealWinner) -> None:
        assert stack.postgres is not None
        self.stack = stack
        self.erp_db = erp_db
        self.api = api
        self.load = load
        self.check = Consistency(stack, {"crm": stack.postgres, "gateway": stack.postgres, "erp": erp_db})
        self.extra: dict[str, ServiceProcess] = {}
        self.figures: list[Figures] = []
        self.report: Callable[[str], None] = print

    def proc(self, name: str) -> ServiceProcess:
        return self.extra.get(name) or self.stack.processes[name]

    def stop_services(self) -> None:
        """Stop every process now: the invariants were checked after each fault, no need to drain again."""
        for process in [*self.extra.values(), *self.stack.processes.values()]:
            process.stop()

    def all_processes(self) -> list[ServiceProcess]:
        return [*self.stack.processes.values(), *self.extra.values()]

    def erp_consumers(self) -> list[ServiceProcess]:
        return [p for p in self.all_processes() if p.name.startswith("erp-") and p.name != "erp-api"]

    def duplicates(self) -> int:
        return sum(consumer_stat(p, "duplicates") for p in self.erp_consumers() if p.alive())

    def start_load(self, at_least: int = 3) -> None:
        self.load.resume()
        self.load.wait_for_progress(at_least)

    def verify(self, scenario: str, recovered_from: float, **extra: object) -> Figures:
        """Pause the load, wait for convergence, check the invariants, print and return the figures."""
        self.load.pause()
        wait_all_ready(self.all_processes(), timeout=CONVERGE_SECONDS)
        wait_for(self.check.converged, CONVERGE_SECONDS, f"{scenario}: every won deal projected, outboxes empty",
                 interval=0.2)
        recovery = time.monotonic() - recovered_from
        won = self.check.won_deals()
        projects = self.check.projects_per_deal()
        schedules = self.check.schedules_per_deal()
        assert won, "the load won no deal"
        doubled = {deal: n for deal, n in projects.items() if n != 1}
        assert not doubled, f"{scenario}: deals with more than one project: {doubled}"
        missing = won - projects.keys()
        assert not missing, f"{scenario}: won deals without a project: {sorted(missing)[:5]}"
        bad_schedules = {deal: schedules.get(deal, 0) for deal in won if schedules.get(deal, 0) != 1}
        assert not bad_schedules, f"{scenario}: projects without exactly one schedule: {bad_schedules}"
        assert self.check.deals_with_empty_schedules() == 0
        assert self.check.unpublished() == {"crm": 0, "erp": 0}
        dead = self.check.dead_letters()
        assert dead == 0, f"{scenario}: {dead} good events were dead-lettered during an outage"
        wait_all_ready(self.all_processes(), timeout=CONVERGE_SECONDS)  # still ready once caught up
        figures = Figures(scenario, len(won), sum(projects.values()), sum(schedules.values()), self.duplicates(),
                          dead, recovery, self.load.errors, dict(extra))
        self.figures.append(figures)
        self.report(figures.line())
        return figures


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[FaultRig]:
    var_dir: Path = tmp_path_factory.mktemp("fault-stack")
    stack = Stack(var_dir=var_dir, ports=Ports.free(), extra_env={"ADMIN_PASSWORD": ADMIN_PASSWORD})
    erp_db = EmbeddedPostgres(var_dir / "postgres-erp")
    load: DealWinner | None = None
    rig: FaultRig | None = None
    try:
        erp_db.start()
        erp_db.create_database("erp")
        with pytest.MonkeyPatch.context() as env:
            # Always our own embedded servers (even when the session points at real ones): we break them.
            for name in ("CRM_DATABASE_URL", "GATEWAY_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
                env.delenv(name, raising=False)
            env.setenv("ERP_DATABASE_URL", erp_db.url("erp"))
            stack.start()
        assert stack.postgres is not None and stack.broker is not None
        api = Api.login(stack, "admin@example.com", ADMIN_PASSWORD)
        load = DealWinner(f"http://127.0.0.1:{stack.ports.gateway}", api.token)
        load.start()
        rig = FaultRig(stack, erp_db, api, load)
        rig.report = _terminal_writer(pytestconfig)
        yield rig
    finally:
        if load is not None:
            load.stop()
        if stack.broker is not None and stack.broker.process is not None:
            stack.broker.resume()
        if rig is not None:
            for process in rig.extra.values():
                process.kill()
            rig.stop_services()
            rig.api.client.close()
            rig.report("[fault] summary:\n" + "\n".join(f.line() for f in rig.figures))
        stack.stop()
        erp_db.stop()


def _terminal_writer(config: pytest.Config) -> Callable[[str], None]:
    """The figures are part of what the suite must show: write them past pytest's output capture."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return print

    def write(line: str) -> None:
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            reporter.write_line(line)

    return write


def test_erp_worker_killed_mid_batch_and_restarted(rig: FaultRig) -> None:
    worker = rig.proc("erp-worker")
    rig.start_load()
    handled_before = consumer_stat(worker, "handled")
    wait_for(lambda: consumer_stat(worker, "handled") > handled_before, 20, "the ERP consumer to be mid-stream")
    worker.kill()  # SIGKILL while batches are flowing
    rig.load.wait_for_progress(3)  # deals keep being won while the ERP worker is down
    worker.start()
    restarted = time.monotonic()
    rig.verify("erp worker kill -9", restarted)

    # The same again, but exactly between the database commit and the offset commit (failpoint):
    # the batch is redelivered to the restarted worker and its inbox skips every event of it.
    rig.start_load()
    worker.restart({"THROUGHLINE_FAILPOINTS": "consumer.after_db_commit"}, hard=True)
    assert worker.wait_exit(30) == 137, f"the failpoint did not fire:\n{worker.tail()}"
    worker.start()
    restarted = time.monotonic()
    figures = rig.verify("erp worker killed after db commit", restarted)
    assert figures.duplicates_skipped >= 1, "the redelivered batch should have been skipped by the inbox"


def test_crm_relay_killed_between_publish_and_mark(rig: FaultRig) -> None:
    relay = rig.proc("crm-worker")
    erp_worker = rig.proc("erp-worker")
    rig.start_load()
    relay.kill()  # plain SIGKILL while publishing
    rig.load.wait_for_progress(3)  # the CRM keeps accepting wins; their events wait in its outbox
    duplicates_before = consumer_stat(erp_worker, "duplicates")
    # Restart with the failpoint: it exits right after the broker acknowledged a batch and before the rows
    # are marked published; the next relay publishes that batch again and the ERP inbox skips it.
    relay.start({"THROUGHLINE_FAILPOINTS": "relay.after_publish"})
    assert relay.wait_exit(30) == 137, f"the failpoint did not fire:\n{relay.tail()}"
    relay.start()
    restarted = time.monotonic()
    figures = rig.verify("crm relay killed after publish", restarted)
    wait_for(lambda: consumer_stat(erp_worker, "duplicates") > duplicates_before, 20,
             "the republished batch to be skipped as duplicates")
    assert figures.deals_won > 0


def test_broker_frozen_then_resumed(rig: FaultRig) -> None:
    assert rig.stack.broker is not None
    rig.start_load()
    rig.stack.broker.freeze()
    try:
        rig.load.wait_for_progress(3)  # the CRM API does not need the broker: wins go to the outbox
        time.sleep(OUTAGE_SECONDS)
    finally:
        rig.stack.broker.resume()
    resumed = time.monotonic()
    rig.verify("broker SIGSTOP/SIGCONT", resumed, frozen_s=OUTAGE_SECONDS)


def test_erp_database_stopped_then_started(rig: FaultRig) -> None:
    rig.start_load()
    rig.erp_db.stop()
    try:
        rig.load.wait_for_progress(3)  # the CRM database is another server: wins go on
        time.sleep(OUTAGE_SECONDS)
        # While the database is away the ERP worker says so instead of pretending to be ready.
        body = readiness(rig.proc("erp-worker"))
        assert body.get("components", {}).get("database", {}).get("ok") is False, body
    finally:
        rig.erp_db.start()
    started = time.monotonic()
    rig.verify("erp database stopped", started, down_s=OUTAGE_SECONDS)


def test_broker_restarted_after_draining(rig: FaultRig) -> None:
    assert rig.stack.broker is not None
    rig.load.pause()
    wait_for(rig.check.converged, CONVERGE_SECONDS, "the system to drain before the broker restart", interval=0.2)
    rig.stack.broker.stop()
    rig.stack.broker.start()  # same port, empty: the dev broker's storage is memory
    wanted = {**topics_for_group(erp_consumed, "erp"), **topics_for_group(crm_consumed, "crm")}
    asyncio.run(ensure_topics(KafkaSettings(bootstrap_servers=rig.stack.bootstrap_servers,
                                            client_id="fault-topic-init"), wanted))
    restarted = time.monotonic()
    rig.start_load()  # producers, relays and consumer groups must find the new broker by themselves
    rig.verify("broker restarted (after draining)", restarted)


def test_two_erp_consumers_rebalance_when_one_is_killed(rig: FaultRig) -> None:
    first = rig.proc("erp-worker")
    total_partitions = consumer_stat(first, "assigned_partitions")
    assert total_partitions > 0
    second = ServiceProcess("erp-consumer-2", ["erp", "serve", "--roles", "consumer"], rig.stack.common_env(),
                            free_port(), rig.stack.var_dir / "log")
    rig.extra[second.name] = second
    second.start()
    second.wait_ready(timeout=60)
    rig.start_load()
    wait_for(lambda: 0 < consumer_stat(first, "assigned_partitions") < total_partitions
             and consumer_stat(second, "assigned_partitions") > 0, 30, "the group to split the partitions")
    split = (consumer_stat(first, "assigned_partitions"), consumer_stat(second, "assigned_partitions"))
    assert sum(split) == total_partitions
    handled_before = consumer_stat(second, "handled")
    wait_for(lambda: consumer_stat(second, "handled") > handled_before, 20, "the second consumer to take events")
    second.kill()
    killed = time.monotonic()
    wait_for(lambda: consumer_stat(first, "assigned_partitions") == total_partitions, 30,
             "the survivor to take every partition back")
    del rig.extra[second.name]
    rig.verify("second erp consumer killed", killed, split=f"{split[0]}+{split[1]}")
