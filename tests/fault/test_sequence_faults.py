"""Sequence steps are sent exactly once across crashes, restarts, two schedulers and an SMTP outage (issue 25).

A stack of its own (it kills processes and stops the SMTP server), with a second CRM scheduler process beside the
worker's. Enrolments whose steps are due are made while no scheduler runs; then both schedulers start with a fail
point armed: the worker dies with its first batch staged but not committed (`sequences.before_commit`), the second
scheduler right after its first batch committed (`sequences.after_commit`). Both are started again and finish.
Then the SMTP server is stopped while more steps come due: their mail waits in the outbox, and goes out once the
server is back.

Checked from the database and the SMTP server's files: every (enrolment, step) has exactly one run and one mail;
every mail's Message-ID arrived; a Message-ID arrived twice at most once per killed process (the mail sender's own
one-message window, docs/mail.md) and never as two different messages for one step.
"""

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.ports import free_port
from devstack.processes import ServiceProcess
from devstack.stack import Ports, Stack
from tests.crm.helpers import token_for
from tests.fault.helpers import wait_all_ready
from tests.support import wait_for

pytestmark = pytest.mark.fault

CONTACTS = 40  # two mail steps each: 80 mails, in batches of 7 (several batches per scheduler)
STEPS = 2


class SequenceRig:
    def __init__(self, stack: Stack, scheduler: ServiceProcess, api: httpx.Client) -> None:
        self.stack = stack
        self.worker = stack.processes["crm-worker"]
        self.scheduler = scheduler
        self.api = api

    def psql(self, sql: str) -> list[list[str]]:
        assert self.stack.postgres is not None
        out = self.stack.postgres.psql("crm", sql)
        return [line.split("|") for line in out.splitlines() if line.strip()]

    def post(self, path: str, body: dict[str, Any], expected: int = 201) -> dict[str, Any]:
        response = self.api.post(path, json=body)
        assert response.status_code == expected, f"{path}: {response.status_code} {response.text[:300]}"
        result: dict[str, Any] = response.json()
        return result

    def sequence(self) -> str:
        template = self.post("/api/crm/mail-templates", {
            "name": f"Fault {uuid.uuid4().hex[:8]}", "subject": "Step for {{ contact.first_name }}",
            "text": "Hello {{ contact.first_name }}", "html": "<p>Hello {{ contact.first_name }}</p>"})
        step = {"kind": "email", "delay_days": 0, "template_id": template["id"]}
        return str(self.post("/api/crm/sequences", {
            "name": f"Fault {uuid.uuid4().hex[:8]}", "window_start_hour": 0, "window_end_hour": 24,
            "business_days_only": False, "steps": [step] * STEPS})["id"])

    def enrol(self, sequence_id: str, count: int) -> list[str]:
        ids = []
        for n in range(count):
            s = uuid.uuid4().hex[:10]
            contact = self.post("/api/crm/contacts", {"first_name": f"Person{n}", "last_name": s,
                                                      "email": f"p{n}-{s}@fault-{s}.example"})
            ids.append(self.post(f"/api/crm/sequences/{sequence_id}/enrolments", {"contact_id": contact["id"]})["id"])
        return ids

    def completed(self, enrolments: list[str]) -> bool:
        rows = self.psql(f"SELECT count(*) FROM sequence_enrolments WHERE status = 'completed' "
                         f"AND id IN ({_ids(enrolments)})")
        sent = self.psql(f"SELECT count(*) FROM crm_mails WHERE status = 'sent' "
                         f"AND enrolment_id IN ({_ids(enrolments)})")
        return int(rows[0][0]) == len(enrolments) and int(sent[0][0]) == len(enrolments) * STEPS

    def message_ids(self, enrolments: list[str]) -> dict[tuple[str, int], list[str]]:
        """Each (enrolment, step)'s mails' Message-IDs."""
        found: dict[tuple[str, int], list[str]] = {}
        for enrolment, position, message_id in self.psql(
                f"SELECT enrolment_id, step_position, message_id FROM crm_mails WHERE enrolment_id IN "
                f"({_ids(enrolments)})"):
            found.setdefault((enrolment, int(position)), []).append(message_id)
        return found

    def runs(self, enrolments: list[str]) -> Counter[tuple[str, int]]:
        return Counter((e, int(p)) for e, p in self.psql(
            f"SELECT enrolment_id, position FROM sequence_step_runs WHERE enrolment_id IN ({_ids(enrolments)})"))

    def delivered(self) -> Counter[str]:
        """Message-IDs of the SMTP server's files (each file is one delivery)."""
        assert self.stack.smtp is not None
        return Counter(f"<{p.name.split('-', 2)[2].removesuffix('.eml')}>"
                       for p in self.stack.smtp.mail_dir.glob("*.eml"))


def _ids(ids: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SequenceRig]:
    var_dir: Path = tmp_path_factory.mktemp("sequence-fault-stack")
    env = {"ADMIN_PASSWORD": "fault-admin-password", "CRM_SEQUENCE_BATCH_SIZE": "7",
           "CRM_SEQUENCE_INTERVAL_SECONDS": "0.5", "CRM_SEQUENCE_DAILY_LIMIT_PER_SENDER": "100000"}
    stack = Stack(var_dir=var_dir, ports=Ports.free(), extra_env=env, durable=False)
    scheduler: ServiceProcess | None = None
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in ("CRM_DATABASE_URL", "ERP_DATABASE_URL", "GATEWAY_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS",
                         "SMTP_HOST"):
                patch.delenv(name, raising=False)
            stack.start()
        scheduler = ServiceProcess("crm-scheduler-2", ["crm", "serve", "--roles", "scheduler"], stack.common_env(),
                                   free_port(), var_dir / "log", stack.gate("crm"))
        scheduler.start()
        scheduler.wait_ready()
        headers = {"Authorization": f"Bearer {token_for(stack, 'sales', 'fault-seller')}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.crm}", timeout=15, headers=headers) as api:
            yield SequenceRig(stack, scheduler, api)
    finally:
        if scheduler is not None:
            scheduler.stop()
        stack.stop()


def test_two_schedulers_crashing_around_their_commit_send_each_step_once(rig: SequenceRig) -> None:
    sequence_id = rig.sequence()
    # No scheduler runs while the steps come due.
    rig.worker.stop()
    rig.scheduler.stop()
    enrolments = rig.enrol(sequence_id, CONTACTS)
    # Each dies in its first batch: the worker before its COMMIT, the second scheduler right after it.
    rig.worker.start({"THROUGHLINE_FAILPOINTS": "sequences.before_commit"})
    rig.scheduler.start({"THROUGHLINE_FAILPOINTS": "sequences.after_commit"})
    assert rig.worker.wait_exit(60) == 137, f"the worker's fail point did not fire:\n{rig.worker.tail()}"
    assert rig.scheduler.wait_exit(60) == 137, f"the scheduler's fail point did not fire:\n{rig.scheduler.tail()}"
    kills = 2
    rig.worker.start()
    rig.scheduler.start()
    wait_all_ready([rig.worker, rig.scheduler])
    wait_for(lambda: rig.completed(enrolments) or None, 90, "every step sent", interval=0.5)
    _check_once(rig, enrolments, kills)


def test_steps_due_while_smtp_is_down_wait_and_go_out_once_it_is_back(rig: SequenceRig) -> None:
    assert rig.stack.smtp is not None
    sequence_id = rig.sequence()
    rig.stack.smtp.stop()
    before = sum(rig.delivered().values())
    enrolments = rig.enrol(sequence_id, 10)
    # The steps ran (their mail is staged) but nothing can be delivered: it waits, nothing is charged or lost.
    wait_for(lambda: int(rig.psql(f"SELECT count(*) FROM sequence_step_runs WHERE enrolment_id IN "
                                  f"({_ids(enrolments)})")[0][0]) == 10 * STEPS or None, 60, "the steps ran")
    time.sleep(2)
    queued = rig.psql(f"SELECT count(*), max(o.attempts) FROM crm_mails m JOIN mail_outbox o ON o.cause_id = m.id "
                      f"WHERE m.enrolment_id IN ({_ids(enrolments)}) AND o.status = 'queued'")
    assert int(queued[0][0]) == 10 * STEPS and int(queued[0][1]) == 0, queued
    ready = httpx.get(rig.worker.url + "/health/ready", timeout=5).json()
    assert ready["components"]["mail"]["ok"] is False and ready["components"]["mail"]["smtp"] == "unreachable"
    assert sum(rig.delivered().values()) == before
    rig.stack.smtp.start()
    wait_for(lambda: rig.completed(enrolments) or None, 90, "sent once the server is back", interval=0.5)
    _check_once(rig, enrolments, kills=0)


def _check_once(rig: SequenceRig, enrolments: list[str], kills: int) -> None:
    runs = rig.runs(enrolments)
    assert set(runs) == {(e, p) for e in enrolments for p in range(1, STEPS + 1)}
    assert set(runs.values()) == {1}
    mails = rig.message_ids(enrolments)
    assert set(mails) == set(runs), "a step without its mail, or a mail without its step"
    doubled_steps = {step: ids for step, ids in mails.items() if len(ids) != 1}
    assert not doubled_steps, f"steps with more than one mail: {doubled_steps}"
    delivered = rig.delivered()
    ours = [ids[0] for ids in mails.values()]
    missing = [m for m in ours if delivered[m] == 0]
    assert not missing, f"{len(missing)} mails never arrived"
    extra = sum(delivered[m] - 1 for m in ours)
    # The only doubling allowed: the mail sender's window, one message per sender killed (docs/mail.md).
    assert extra <= kills, f"{extra} deliveries beyond one per mail (kills: {kills})"
