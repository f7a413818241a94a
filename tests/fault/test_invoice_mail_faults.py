"""Invoices sent by mail are delivered once across a sender killed mid-send (issue 22).

A stack of its own (it kills the ERP's worker, whose scheduler role runs the mail sender). Invoices are issued
while it runs; then it is stopped, and the invoices are sent (the API stages each mail in the ERP's mail outbox).
The worker starts with the fail point `mail.after_smtp_accept` armed: its sender dies (SIGKILL) right after the SMTP
server accepted the first message and before marking it sent, the one window docs/mail.md names. Started again,
the worker puts that message back and sends everything.

Checked from the database and the SMTP server's files: every invoice's mail is sent and arrived (nothing lost),
each Message-ID arrived once, except at most one message (the one in the window), which arrived twice under the
same Message-ID; and the invoice's history says sent for each.
"""

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.stack import Ports, Stack
from tests.erp_billing.helpers import fixed, today, token
from tests.fault.helpers import wait_all_ready
from tests.support import wait_for

pytestmark = pytest.mark.fault

INVOICES = 15


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir: Path = tmp_path_factory.mktemp("invoice-mail-fault-stack")
    system = Stack(var_dir=var_dir, ports=Ports.free(), extra_env={"ADMIN_PASSWORD": "fault-admin-password"},
                   durable=False)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in ("CRM_DATABASE_URL", "ERP_DATABASE_URL", "GATEWAY_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS",
                         "SMTP_HOST"):
                patch.delenv(name, raising=False)
            system.start()
        yield system
    finally:
        system.stop()


def _client(stack: Stack, role: str, port: int) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                        headers={"Authorization": f"Bearer {token(stack, role)}"})


def _ok(client: httpx.Client, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
    response = client.request(method, path, **kwargs)
    assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text[:300]}"
    return response.json()


def delivered(stack: Stack) -> Counter[str]:
    """Message-IDs of the SMTP server's files (each file is one delivery)."""
    assert stack.smtp is not None
    return Counter(f"<{p.name.split('-', 2)[2].removesuffix('.eml')}>" for p in stack.smtp.mail_dir.glob("*.eml"))


def test_a_sender_killed_after_the_smtp_server_accepted_loses_nothing_and_doubles_one_message_at_most(
        stack: Stack) -> None:
    assert stack.postgres is not None
    with _client(stack, "admin", stack.ports.crm) as crm, _client(stack, "finance", stack.ports.erp) as erp:
        suffix = uuid.uuid4().hex[:8]
        company = _ok(crm, "POST", "/api/crm/companies", 201, json={
            "name": f"Fault client {suffix}", "domain": f"fault-{suffix}.example",
            "email": f"ap@fault-{suffix}.example"})
        deal = _ok(crm, "POST", "/api/crm/deals", 201, json={
            "title": "Fault", "company_id": company["id"], "amount": "5000.00", "currency": "EUR",
            "billing": fixed(1, today() + timedelta(days=400))})
        _ok(crm, "POST", f"/api/crm/deals/{deal['id']}/win")

        def project() -> dict[str, Any] | None:
            items = _ok(erp, "GET", "/api/erp/projects", params={"deal_id": deal["id"]})["items"]
            return items[0] if items else None

        found = wait_for(project, 30, "the won deal's project")
        invoices = []
        for n in range(INVOICES):
            draft = _ok(erp, "POST", "/api/erp/invoices", 201, json={"project_id": found["id"], "lines": [
                {"description": f"Work {n}", "quantity": "1", "unit_price": "100.00", "tax_rate": "0"}]})
            invoices.append(_ok(erp, "POST", f"/api/erp/invoices/{draft['id']}/issue"))

        worker = stack.processes["erp-worker"]
        worker.stop()  # no sender runs while the mails are staged
        sent = [_ok(erp, "POST", f"/api/erp/invoices/{i['id']}/send", 202) for i in invoices]
        worker.start({"THROUGHLINE_FAILPOINTS": "mail.after_smtp_accept"})
        assert worker.wait_exit(90) == 137, f"the sender's fail point did not fire:\n{worker.tail()}"
        assert len(delivered(stack)) == 1  # the server accepted one message; its mark never committed
        worker.start()
        wait_all_ready([worker])

        ids = ", ".join(f"'{m['id']}'" for m in sent)

        def all_sent() -> bool | None:
            assert stack.postgres is not None
            out = stack.postgres.psql("erp", f"SELECT count(*) FROM invoice_mails WHERE status = 'sent' "
                                             f"AND id IN ({ids})")
            return int(out.strip()) == INVOICES or None

        wait_for(all_sent, 90, "every invoice's mail sent", interval=0.5)

    arrived = delivered(stack)
    wanted = {m["message_id"] for m in sent}
    assert wanted <= set(arrived), f"lost: {wanted - set(arrived)}"
    extra = sum(count - 1 for message_id, count in arrived.items() if message_id in wanted)
    assert extra <= 1, f"{extra} deliveries beyond one per mail (one sender killed)"
    left = stack.postgres.psql("erp", "SELECT count(*) FROM mail_outbox WHERE status <> 'sent'")
    assert int(left.strip()) == 0, left
