"""The services' CSV exports, with people named: `GET /api/crm/export/{entity}` and `GET /api/erp/export/{kind}`.

The services name clients, companies, projects and categories themselves, but a person is a user id to them
(`owner_id`, `person_id`, `recorded_by`, `submitted_by`): users live in the gateway. So the gateway forwards an
export like any other call and, when the answer is a CSV file, adds beside each such column the person's name and
email from its users table (`owner_id` -> `owner`, `owner_email`). The cells are read back with
`csv_safety.restore` and written again with `csv_safety.csv_writer`, so the file stays formula-safe (a user named
`=cmd|...` included) and byte-for-byte what the service wrote apart from the new columns. An id the gateway does not
know (a user since removed, a test token) keeps empty name cells: the id is still there.
"""

import contextlib
import csv
import io
import uuid
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from gateway.db import User
from gateway.proxy.forward import forward
from gateway.proxy.router import ProxyRoute
from gateway.security import current_caller
from throughline_platform.csv_safety import csv_writer, restore

# A service's column holding a user id -> the name of the columns added after it (<name>, <name>_email).
PERSON_COLUMNS = {"owner_id": "owner", "person_id": "person", "recorded_by": "recorded_by_name",
                  "submitted_by": "submitted_by_name"}


class ExportEndpoint:
    """Forwards an export to its service and names the people in the CSV file it answers."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        principal = await current_caller(request)
        state = request.app.state
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await forward(request, keep, state.upstreams[self.upstream], principal, state.settings, state.idempotency)
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        headers = dict(start["headers"]) if start else {}
        if start is None or start["status"] != 200 or not headers.get(b"content-type", b"").startswith(b"text/csv"):
            for message in messages:
                await send(message)
            return
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        named = (await name_people(state.session_factory, body.decode("utf-8"))).encode("utf-8")
        out_headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        out_headers.append((b"content-length", str(len(named)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": out_headers})
        await send({"type": "http.response.body", "body": named})


async def name_people(session_factory: Any, text: str) -> str:
    """`text` (a CSV file) with a name and an email column after each person column."""
    table = list(csv.reader(io.StringIO(text, newline="")))
    if not table:
        return text
    header = table[0]
    people = [i for i, name in enumerate(header) if name in PERSON_COLUMNS]
    if not people:
        return text
    ids: set[uuid.UUID] = set()
    for row in table[1:]:
        for i in people:
            if i < len(row):
                with contextlib.suppress(ValueError):
                    ids.add(uuid.UUID(restore(row[i])))
    users: dict[str, tuple[str, str]] = {}
    if ids:
        async with session_factory() as session:
            found = await session.execute(select(User.id, User.full_name, User.email).where(User.id.in_(ids)))
            users = {str(user_id): (full_name or email, email) for user_id, full_name, email in found.tuples()}
    out = io.StringIO()
    writer = csv_writer(out)
    for number, row in enumerate(table):
        cells: list[str] = []
        for i, cell in enumerate(row):
            value = restore(cell)
            cells.append(value)
            if i in people:
                if number == 0:
                    label = PERSON_COLUMNS[value]
                    cells += [label, f"{label.removesuffix('_name')}_email"]
                else:
                    name, email = users.get(value.lower(), ("", ""))
                    cells += [name, email]
        writer.writerow(cells)
    return out.getvalue()


def export_routes() -> list[Any]:
    return [ProxyRoute("/api/crm/export/{entity}", ExportEndpoint("crm"), methods=["GET"], include_in_schema=False),
            ProxyRoute("/api/erp/export/{kind}", ExportEndpoint("erp"), methods=["GET"], include_in_schema=False)]
