"""`Idempotency-Key` on POST, honoured by each service itself (not only by the gateway, which the services do not
have to be called through): the same semantics as the gateway's (gateway/proxy/idempotency.py).

A POST with a key, from a caller with a valid token, is keyed by (the token's subject, the key):
- the first request runs; its answer is stored with the hash of its method, path, query and body;
- a repeat with the same request gets the stored answer again (`Idempotent-Replayed: true`), and nothing runs;
- a repeat with another request gets 422 `idempotency-key-reused`;
- a repeat while the first is still running gets 409 `idempotency-in-flight`;
- answers that say nothing final about the request (5xx, 401, 403, 408, 409, 425, 429) are not stored, so the
  client may retry with the same key (unless the request changed something: then its answer is stored, whatever
  it is, since a retry must not change it again);
- records are kept 24 hours, then purged by the scheduler (`purge_job`).

**The change and the stored answer commit together.** The request's unit of work is deferred
(`UnitOfWork.defer_commit`): the service's `commit()` writes and flushes, and the COMMIT comes here, after the
answer has been inserted into `idempotency_keys` in the same transaction. A crash anywhere leaves either both or
neither: a retry after a lost answer replays it, and a retry after a crash before COMMIT runs the request afresh.
A transaction-scoped advisory lock on the key makes a concurrent repeat a 409 at once; should two runs meet anyway
(the lock is lost when a unit of work restarts), the primary key lets one commit, and the other, rolled back,
replays its answer.

**Work that must commit before it answers** (a reminder run mails what it committed, from another unit of work)
is named by path in `commits_before_answering`: for those the key is claimed first in a transaction of its own
and the answer stored after, as the gateway does; a run that dies in between leaves a claim that another request
may take over after 5 minutes (the gateway's rule).

A request without a valid bearer token is passed on untouched: the route answers 401 itself.
"""

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from fastapi import FastAPI
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from throughline_messaging.uow import UnitOfWork
from throughline_platform.openapi import add_problem_responses
from throughline_platform.problems import ProblemError, problem_response

if TYPE_CHECKING:
    from throughline_messaging.runtime import ServiceRuntime

log = structlog.get_logger(__name__)

KEEP_FOR = timedelta(hours=24)
# A claim (only work that commits before it answers makes one) older than this belongs to a request that died with
# its process: another request may take it over.
ABANDONED_AFTER = timedelta(minutes=5)
NOT_STORED = frozenset({401, 403, 408, 409, 425, 429})
PURGE_EVERY_SECONDS = 3600
# Where the request's deferred unit of work waits for the `UoW` dependency (throughline_messaging.deps).
UOW_SCOPE_KEY = "throughline.idempotent_uow"
# The first key of the two-key advisory locks taken here (the second is `hashtext(lock_name(...))`), so they never
# meet the single-key locks of the services.
LOCK_CLASS = 0x1DE7


def lock_name(principal: str, key: str) -> str:
    """What the advisory lock of a key is taken on (a line break cannot occur in a key, which is printable)."""
    return f"{principal}\n{key}"


def request_hash(method: str, target: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), target.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > 200 or not key.isprintable():
        raise ProblemError("Idempotency-Key must be 1 to 200 printable characters.", status=422,
                           title="Invalid request", type_slug="idempotency-key-invalid")
    return key


def should_store(status: int) -> bool:
    return status < 500 and status not in NOT_STORED


@dataclass
class _Answer:
    """The answer the app sent, held back until its fate is settled (stored, committed) and then sent."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    async def capture(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status, self.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    @property
    def content_type(self) -> str | None:
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == b"content-type"), None)

    async def send_to(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": bytes(self.body), "more_body": False})


@dataclass(frozen=True)
class _Request:
    principal: str
    key: str
    hashed: str


class IdempotencyMiddleware:
    """Installed innermost (inside the problem catch-all, the body limit and the request context) by
    `install_idempotency`."""

    def __init__(self, app: ASGIApp, *, table: Table, commits_before_answering: frozenset[str]) -> None:
        self.app = app
        self.table = table
        self.commits_before_answering = commits_before_answering

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_key = _header(scope, b"idempotency-key") if scope["type"] == "http" and scope["method"] == "POST" else None
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        principal = _principal(scope)
        if principal is None:
            await self.app(scope, receive, send)  # the route refuses the caller itself (401)
            return
        try:
            key = check_key(raw_key)
        except ProblemError as exc:
            await problem_response(exc.status, exc.title, exc.detail, exc.type_slug)(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away before its body was in
        query: bytes = scope.get("query_string", b"")
        target = scope["path"] + (f"?{query.decode('latin-1')}" if query else "")
        request = _Request(principal, key, request_hash("POST", target, body))
        runtime: ServiceRuntime = scope["app"].state.runtime
        replay = _replaying(body, receive)
        if scope["path"] in self.commits_before_answering:
            await self._claim_first(runtime, request, scope, replay, send)
        else:
            await self._atomic(runtime, request, scope, replay, send)

    # --- the change and its answer in one transaction ---------------------------------------------------------

    async def _atomic(self, runtime: "ServiceRuntime", request: _Request, scope: Scope, receive: Receive,
                      send: Send) -> None:
        answer = _Answer()
        async with runtime.uow() as uow:
            uow.defer_commit()
            session = uow.session
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(
                LOCK_CLASS, func.hashtext(lock_name(request.principal, request.key)))))
            if not locked:
                await _in_flight(scope, receive, send)
                return
            found = await self._find(session, request)
            if found is not None:
                await found(scope, receive, send)
                return
            scope[UOW_SCOPE_KEY] = uow
            try:
                await self.app(scope, receive, answer.capture)
            finally:
                scope.pop(UOW_SCOPE_KEY, None)
            stored = await self._settle(uow, request, answer)
            if stored is not None:  # a concurrent run of the same request committed first: its answer counts
                await stored(scope, receive, send)
                return
        await answer.send_to(send)

    async def _settle(self, uow: UnitOfWork, request: _Request, answer: _Answer) -> ASGIApp | None:
        """Commit the work with its answer, or roll it back; an ASGI answer to send instead, if another run won."""
        changed = uow.commit_requested
        if answer.status >= 500 or not (changed or should_store(answer.status)):
            return None  # leaving the unit of work rolls everything back: nothing happened, a retry runs afresh
        record = insert(self.table).values(
            principal=request.principal, key=request.key, request_hash=request.hashed, status=answer.status,
            content_type=answer.content_type, body=bytes(answer.body), created_at=datetime.now(UTC))
        try:
            if changed:
                await uow.session.execute(record)
                await uow.commit_deferred()  # the change, its events and its answer: one COMMIT
            else:
                # Nothing to commit but the answer (a refusal, a read): whatever the work flushed or recorded is
                # dropped first.
                uow.discard_events()
                await uow.session.rollback()
                await uow.session.execute(record)
                await uow.session.commit()
        except IntegrityError:
            await uow.session.rollback()
            log.info("idempotency_lost_race", key=request.key)
            return await self._find(uow.session, request) or _in_flight
        return None

    async def _find(self, session: AsyncSession, request: _Request) -> ASGIApp | None:
        """The answer for a key already used (a replay, 422 or 409), or None to go ahead. An expired record is
        deleted (in the caller's transaction) and does not count."""
        t = self.table
        row = (await session.execute(select(t.c.request_hash, t.c.status, t.c.content_type, t.c.body, t.c.created_at)
                                     .where(t.c.principal == request.principal, t.c.key == request.key))).first()
        if row is None:
            return None
        if row.created_at < datetime.now(UTC) - KEEP_FOR:
            await session.execute(delete(t).where(t.c.principal == request.principal, t.c.key == request.key))
            return None
        return _answer_for(row.request_hash == request.hashed, row.status, row.content_type, row.body)

    # --- work that commits before it answers: the gateway's way ----------------------------------------------

    async def _claim_first(self, runtime: "ServiceRuntime", request: _Request, scope: Scope, receive: Receive,
                           send: Send) -> None:
        found = await self._claim(runtime, request)
        if found is not None:
            await found(scope, receive, send)
            return
        answer = _Answer()
        try:
            await self.app(scope, receive, answer.capture)
        except BaseException:
            await self._release(runtime, request)
            raise
        t = self.table
        async with runtime.session_factory() as session:
            where = (t.c.principal == request.principal) & (t.c.key == request.key)
            if should_store(answer.status):
                await session.execute(update(t).where(where).values(
                    status=answer.status, content_type=answer.content_type, body=bytes(answer.body)))
            else:
                await session.execute(delete(t).where(where, t.c.status.is_(None)))
            await session.commit()
        await answer.send_to(send)

    async def _claim(self, runtime: "ServiceRuntime", request: _Request) -> ASGIApp | None:
        t = self.table
        now = datetime.now(UTC)
        async with runtime.session_factory() as session:
            claimed = await session.execute(insert(t).values(
                principal=request.principal, key=request.key, request_hash=request.hashed, created_at=now)
                .on_conflict_do_nothing().returning(t.c.key))
            if claimed.first() is not None:
                await session.commit()
                return None
            where = (t.c.principal == request.principal) & (t.c.key == request.key)
            row = (await session.execute(select(t.c.request_hash, t.c.status, t.c.content_type, t.c.body,
                                                t.c.created_at).where(where).with_for_update())).first()
            if row is None:  # released between our insert and select: claim it again
                await session.rollback()
                return await self._claim(runtime, request)
            expired = row.created_at < now - KEEP_FOR
            abandoned = row.status is None and row.created_at < now - ABANDONED_AFTER
            if expired or abandoned:
                await session.execute(update(t).where(where).values(
                    request_hash=request.hashed, status=None, content_type=None, body=None, created_at=now))
                await session.commit()
                return None
            await session.rollback()
        return _answer_for(row.request_hash == request.hashed, row.status, row.content_type, row.body)

    async def _release(self, runtime: "ServiceRuntime", request: _Request) -> None:
        t = self.table
        async with runtime.session_factory() as session:
            await session.execute(delete(t).where(t.c.principal == request.principal, t.c.key == request.key,
                                                  t.c.status.is_(None)))
            await session.commit()


def install_idempotency(app: FastAPI, table: Table, commits_before_answering: frozenset[str] = frozenset()) -> None:
    """Honour `Idempotency-Key` on the app's POSTs: innermost, so that its problems get the request id and security
    headers, the body it reads is already bounded, and an error it raises is answered by the problem catch-all.
    Every POST of the app's OpenAPI document gets the 409 it may now answer."""
    app.user_middleware.append(Middleware(IdempotencyMiddleware, table=table,
                                          commits_before_answering=commits_before_answering))
    add_problem_responses(app, lambda method, path, operation: method == "post", {
        409: "A request with this Idempotency-Key is still running"})


async def purge_expired(runtime: "ServiceRuntime", table: Table) -> int:
    async with runtime.session_factory() as session:
        result = await session.execute(delete(table).where(table.c.created_at < datetime.now(UTC) - KEEP_FOR))
        await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)


def purge_job(table: Table) -> Callable[["ServiceRuntime"], Awaitable[None]]:
    """The scheduler's job: every hour, the records older than KEEP_FOR go."""

    async def purge_idempotency_keys(runtime: "ServiceRuntime") -> None:
        while True:
            try:
                purged = await purge_expired(runtime, table)
                if purged:
                    log.info("idempotency_keys_purged", count=purged)
            except Exception as exc:  # the database may be briefly away; the next round tries again
                log.warning("idempotency_purge_failed", error=repr(exc))
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    return purge_idempotency_keys


def _answer_for(same_request: bool, status: int | None, content_type: str | None, body: bytes | None) -> ASGIApp:
    if not same_request:
        return problem_response(422, "Invalid request", "This Idempotency-Key was already used for a different "
                                "request.", "idempotency-key-reused")
    if status is None:
        return _in_flight
    headers = [(b"idempotent-replayed", b"true")]
    if content_type:
        headers.append((b"content-type", content_type.encode("latin-1")))

    async def replay(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body or b"", "more_body": False})

    return replay


async def _in_flight(scope: Scope, receive: Receive, send: Send) -> None:
    await problem_response(409, "Conflict", "A request with this Idempotency-Key is still in progress; retry later.",
                           "idempotency-in-flight")(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _principal(scope: Scope) -> str | None:
    """Whose key it is: the verified token's subject (a user, or an API key through the gateway)."""
    header = _header(scope, b"authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        principal = scope["app"].state.verifier.verify(token.strip())
    except ProblemError:
        return None
    return f"{principal.kind}:{principal.user_id}"[:80]


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body (the body limit outside has bounded it); None if the client disconnected first."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, then passes on what the server sends (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
