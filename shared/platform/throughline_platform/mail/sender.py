"""The mail sender: takes due mail from a service's mail outbox and hands it to an SMTP server, never twice but in
one window, which it keeps to one message.

A sender is a background job of the scheduler role (`run()` until `stop()`); a service may run several, in one
process or many. Each holds one PostgreSQL connection of its own, on which it
- holds a session advisory lock on a random key for as long as it lives: its identity and its proof of life;
- listens for the NOTIFY that staging a mail sends at commit (polling is the fallback);
- claims a batch of due rows (`FOR UPDATE SKIP LOCKED`, so two senders never take the same row), marking them
  `sending` and stamping them with its key;
- marks each message with what became of it, one statement, right after the SMTP server answered;
- puts back to `queued` rows a dead sender left in `sending`: the key they carry is no longer locked by anyone
  (`pg_try_advisory_xact_lock` succeeds), which PostgreSQL guarantees as soon as that sender's connection is gone.

It sends over one SMTP connection (aiosmtplib), kept open across batches and reopened when it drops, one message
at a time.

The one window: a sender that dies after the server accepted a message and before its mark commits leaves the row
in `sending`; the next sender to look puts it back, and it is sent again, the same bytes under the same Message-ID
(receivers that dedupe by Message-ID see it once). A sender is in that window for one message at a time, for one
round trip to PostgreSQL, so a crash doubles at most one message per sender. Every other failure is decided before
the server accepted anything: nothing is lost, nothing else is sent twice.

Outcomes (sent, bounced, failed) are recorded by the owning service's hook, `on_outcomes(transaction, outcomes)`:
in batches, in a transaction of the service's (its unit of work: the hook writes history rows and records events
there) that also stamps the rows `recorded_at`, so each outcome is recorded exactly once, whichever sender does
it. Marking is not held up by the hook (one statement per message instead of a transaction), and a hook that fails
leaves the outcomes to be recorded on the next try rather than risking a mail sent twice; readiness shows them
waiting meanwhile.

What the SMTP server answers decides the rest (`classify`): a permanent refusal of the message (5xx to RCPT or
DATA) is `bounced`; a temporary one (4xx, a dropped connection or a timeout mid-message) is tried again after a
backoff that doubles, and `failed` after `max_attempts`; a server that cannot be reached or used (refused
connection, failed TLS or login, 421, 5xx to MAIL FROM, which is our configuration's fault, not the message's)
charges the mail nothing: it waits, the sender retries with backoff however long that lasts, and readiness says so.
"""

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from types import TracebackType
from typing import Any, Generic, Literal, Protocol, Self, TypeVar

import asyncpg
import structlog
from aiosmtplib import (
    SMTP,
    SMTPDataError,
    SMTPException,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponse,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)
from prometheus_client import Counter, Gauge
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from throughline_platform import failpoints
from throughline_platform.db import asyncpg_dsn
from throughline_platform.mail.outbox import FINAL_STATUSES, MailCause, MailOutbox, MailStatus

log = structlog.get_logger(__name__)

MAIL_OUTCOMES = Counter("mail_messages_total", "Mail outbox attempts by what became of them (sent, bounced, failed, "
                        "deferred: tried again later)", ["service", "status"])
MAIL_SMTP_UNAVAILABLE = Counter("mail_smtp_unavailable_total", "Times the SMTP server could not be reached or used",
                                ["service"])
MAIL_QUEUED = Gauge("mail_queued", "Mail outbox rows waiting to be sent", ["service"])

FAILPOINT_AFTER_ACCEPT = "mail.after_smtp_accept"


class MailTransaction(Protocol):
    """What outcomes are recorded in: a transaction on a session, which the service's hook writes into too. A service
    passes its unit of work (`ServiceRuntime.uow`), so the hook can record events that commit with the outcomes;
    `SessionTransaction` is the plain one."""

    session: AsyncSession

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...

    async def commit(self) -> None: ...


T = TypeVar("T", bound=MailTransaction)


class SessionTransaction:
    """A `MailTransaction` on a session factory: commit() commits, leaving without it rolls back."""

    session: AsyncSession

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()


@dataclass(frozen=True)
class MailOutcome:
    """What became of a mail for good, handed to the owning service's hook."""

    mail_id: int
    message_id: str
    cause: MailCause
    status: MailStatus  # sent, bounced or failed
    attempts: int
    recipients: tuple[str, ...]
    # Bounced or failed: the server's last answer (`nobody@x: 550 5.1.1 ...`). Sent: the recipients it refused, if any.
    error: str | None


OutcomesHook = Callable[[T, list[MailOutcome]], Awaitable[None]]


@dataclass(frozen=True)
class SmtpConfig:
    host: str | None  # None: no server configured (the mail waits, readiness says so)
    port: int
    username: str = ""
    password: str = ""
    # "starttls": upgrade a plain connection (port 587), required; "tls": TLS from the start (port 465); "none":
    # plain, for a server on this machine (the development one).
    security: Literal["none", "starttls", "tls"] = "none"
    timeout: float = 30.0  # per SMTP command
    local_hostname: str | None = None  # what EHLO says; None: this host's FQDN


@dataclass(frozen=True)
class SenderConfig:
    batch_size: int = 50  # rows claimed at once; a busy sender claims again as soon as a batch is out
    max_attempts: int = 8  # answered attempts before a temporarily refused mail has failed for good
    first_retry: timedelta = timedelta(seconds=30)  # the wait after the first temporary failure; doubles after each
    max_retry: timedelta = timedelta(hours=1)
    poll_interval: float = 1.0  # seconds between looks for due mail when no NOTIFY comes (and retries come due)
    max_backoff: float = 30.0  # seconds, between tries to reach an SMTP server or database that is away
    idle_disconnect: float = 30.0  # seconds without mail after which the SMTP connection is closed (QUIT)
    recover_interval: float = 10.0  # seconds between looks for what a dead sender left (rows, outcomes)
    record_batch_size: int = 200  # outcomes recorded by the hook in one transaction
    # Seconds a recording pass waits before it takes the outcomes, so that a busy sender records many per
    # transaction rather than one or two (each pass is a transaction of five statements and a commit).
    record_linger: float = 0.2
    retention: timedelta | None = timedelta(days=30)  # finished, recorded rows are deleted after this
    overdue_limit: timedelta = timedelta(minutes=5)  # readiness fails when due mail or an outcome waited longer


class Disposition(Enum):
    BOUNCED = "bounced"  # refused for good: record it, never try again
    DEFERRED = "deferred"  # refused or interrupted for now: one attempt used, tried again after a backoff
    FAILED = "failed"  # cannot be sent by any server (an address SMTP cannot carry): record it
    UNAVAILABLE = "unavailable"  # the server is not there or not usable: no attempt used, wait for it


def classify(exc: BaseException) -> Disposition:
    """What an error from sending one message means for it (see the module's docstring)."""
    if isinstance(exc, SMTPRecipientsRefused):  # every recipient refused
        if all(refusal.code >= 500 for refusal in exc.recipients):
            return Disposition.BOUNCED
        return Disposition.DEFERRED
    if isinstance(exc, SMTPSenderRefused):
        if exc.code == 552:  # RFC 1870: the SIZE we declared is more than the server takes
            return Disposition.BOUNCED
        return Disposition.UNAVAILABLE if exc.code >= 500 or exc.code == 421 else Disposition.DEFERRED
    if isinstance(exc, SMTPDataError):
        if exc.code == 421:
            return Disposition.UNAVAILABLE
        return Disposition.BOUNCED if exc.code >= 500 else Disposition.DEFERRED
    if isinstance(exc, SMTPNotSupported | ValueError):  # e.g. SMTPUTF8 refused, an address it cannot send
        return Disposition.FAILED
    if isinstance(exc, SMTPResponseException):  # RSET, HELO, AUTH refused: the session, not the message
        return Disposition.UNAVAILABLE
    if isinstance(exc, SMTPServerDisconnected | SMTPTimeoutError | ConnectionError | TimeoutError):
        # The connection was good when this message started: it may be the message that broke it, so it uses an
        # attempt (a message cannot stall the queue forever). A server that is down is found when connecting.
        return Disposition.DEFERRED
    if isinstance(exc, SMTPException | OSError):
        return Disposition.UNAVAILABLE
    raise exc


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached or used."""


NOT_CONFIGURED = "no SMTP server is configured (SMTP_HOST)"


class _SmtpLink:
    """One long-lived SMTP connection, opened on first use and again after it dropped."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.client: SMTP | None = None
        self.last_used = 0.0

    def _new_client(self, timeout: float | None = None) -> SMTP:
        c = self.config
        return SMTP(hostname=c.host, port=c.port, username=c.username or None, password=c.password or None,
                    use_tls=c.security == "tls", start_tls=c.security == "starttls",
                    timeout=timeout or c.timeout, local_hostname=c.local_hostname)

    async def connected(self) -> SMTP:
        if self.client is not None and self.client.is_connected:
            return self.client
        await self.close()
        if self.config.host is None:
            raise SmtpUnavailable(NOT_CONFIGURED)
        client = self._new_client()
        try:
            await client.connect()
        except (SMTPException, OSError) as exc:
            client.close()
            raise SmtpUnavailable(_short(exc)) from exc
        self.client = client
        return client

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        if client.is_connected:
            with contextlib.suppress(SMTPException, OSError):
                await client.quit(timeout=2)
        client.close()

    async def probe(self, within: float) -> None:
        """Connect, NOOP, QUIT on a connection of its own (readiness, while the sender has none open)."""
        if self.config.host is None:
            raise SmtpUnavailable(NOT_CONFIGURED)
        client = self._new_client(within)
        try:
            await client.connect()
            await client.noop()
            await client.quit()
        except (SMTPException, OSError) as exc:
            raise SmtpUnavailable(_short(exc)) from exc
        finally:
            client.close()


@dataclass
class _Claimed:
    id: int
    message_id: str
    mail_from: str
    recipients: tuple[str, ...]
    message: bytes
    attempts: int


class MailSender(Generic[T]):
    """Sends a service's mail outbox. `on_outcomes(transaction, outcomes)` records final outcomes in batches, in a
    transaction made by `transactions()` (see the module's docstring); without it outcomes count as recorded."""

    def __init__(self, *, service: str, outbox: MailOutbox, database_url: str, smtp: SmtpConfig,
                 transactions: Callable[[], T], on_outcomes: OutcomesHook[T] | None = None,
                 config: SenderConfig | None = None) -> None:
        self.service = service
        self.outbox = outbox
        self.dsn = asyncpg_dsn(database_url)
        self.transactions = transactions
        self.on_outcomes = on_outcomes
        self.config = config or SenderConfig()
        self.smtp = _SmtpLink(smtp)
        self.key = 0  # this sender's advisory lock key while it holds its connection; 0 before
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._recording: asyncio.Task[None] | None = None
        self._smtp_error: str | None = None  # the last attempt to use the server failed (and how), or None
        self._smtp_checked_at = 0.0
        self._database_error: str | None = "not connected yet"
        self._hook_error: str | None = None
        table = outbox.table.fullname
        queued, sending = MailStatus.QUEUED.value, MailStatus.SENDING.value
        self._claim_sql = (
            f"UPDATE {table} SET status = '{sending}', claimed_by = $1 WHERE id IN ("
            f"SELECT id FROM {table} WHERE status = '{queued}' AND next_attempt_at <= now() "
            f"ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) "
            f"RETURNING id, message_id, mail_from, recipients, message, attempts")
        # The outcome of one message. Without a hook there is nothing left to record.
        recorded = "now()" if on_outcomes is None else "NULL"
        self._finish_sql = (
            f"UPDATE {table} SET status = $3, claimed_by = NULL, attempts = attempts + 1, finished_at = now(), "
            f"last_error = $4, recorded_at = {recorded} WHERE id = $1 AND claimed_by = $2 AND status = '{sending}'")
        self._defer_sql = (
            f"UPDATE {table} SET status = '{queued}', claimed_by = NULL, attempts = attempts + 1, "
            f"next_attempt_at = now() + $3::interval, last_error = $4 "
            f"WHERE id = $1 AND claimed_by = $2 AND status = '{sending}'")
        # Rows this sender claimed and will not send now (stopping, the server away): due again, nothing charged.
        self._release_sql = (f"UPDATE {table} SET status = '{queued}', claimed_by = NULL "
                             f"WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status = '{sending}'")
        # A dead sender's key is locked by nobody: the try succeeds (and holds only until this statement commits).
        # Rows of live senders fail the try and are left alone; every other row has no claimed_by (NULL: no try).
        self._recover_sql = (
            f"UPDATE {table} SET status = '{queued}', claimed_by = NULL "
            f"WHERE status = '{sending}' AND claimed_by <> $1 AND pg_try_advisory_xact_lock(claimed_by) RETURNING id")
        finished = ", ".join(f"'{status}'" for status in FINAL_STATUSES)
        self._unrecorded = f"recorded_at IS NULL AND status IN ({finished})"
        self._take_outcomes = text(
            f"SELECT id, message_id, cause_kind, cause_id, status, attempts, recipients, last_error FROM {table} "
            f"WHERE {self._unrecorded} ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED")
        self._stamp_recorded = text(f"UPDATE {table} SET recorded_at = now() WHERE id = ANY(:ids)")
        self._prune_sql = (f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE status IN ({finished}) "
                           f"AND recorded_at < now() - $1::interval LIMIT 1000)")

    # --- running ---------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Send until `stop()`. The database or the SMTP server being away is waited out, never given up on."""
        backoff = 0.2
        try:
            while not self._stopping.is_set():
                try:
                    await self._serve()
                    backoff = 0.2
                except asyncio.CancelledError:
                    raise
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    self._database_error = _short(exc)
                    log.warning("mail_sender_retry", service=self.service, error=_short(exc),
                                backoff_s=round(backoff, 2))
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self.config.max_backoff)
            await self._record_all()  # what this sender marked, before it goes
        finally:
            if self._recording is not None:
                self._recording.cancel()
            await self.smtp.close()

    async def stop(self) -> None:
        """Finish the message in hand, put the rest of the batch back, record the outcomes, close the connections.
        (Cancelling `run()` does the same, except recording: outcomes left are recorded by the next sender.)"""
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Look for due mail now (in-process; other processes' commits wake the sender by NOTIFY)."""
        self._wake.set()

    async def _serve(self) -> None:
        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": f"{self.service}-mail-sender"})
        try:
            key = secrets.randbits(63) or 1
            await conn.execute("SELECT pg_advisory_lock($1)", key)  # a fresh random key: nobody holds it
            self.key = key
            await conn.add_listener(self.outbox.notify_channel, self._on_notify)
            self._database_error = None
            log.info("mail_sender_started", service=self.service)
            await self._send_until_stopped(conn)
        finally:
            self.key = 0
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _send_until_stopped(self, conn: asyncpg.Connection) -> None:
        recovered_at = pruned_at = 0.0
        smtp_backoff = 0.2
        while not self._stopping.is_set():
            now = time.monotonic()
            if now - recovered_at >= self.config.recover_interval:
                await self._recover(conn)  # rows a dead sender left in `sending`
                self._record_soon()  # and outcomes it marked but did not record
                recovered_at = now
            if self.config.retention is not None and now - pruned_at >= 3600:
                await self._prune(conn)
                pruned_at = now
            self._wake.clear()
            if self._smtp_error is not None and self.smtp.client is None:
                # The server was away at the last try: reach it before claiming anything, so that an outage leaves
                # the queue as it is (no row claimed and put back over and over, nothing charged an attempt).
                try:
                    await self.smtp.connected()
                    self._smtp_state(None)
                except SmtpUnavailable as exc:
                    self._smtp_state(str(exc))
                    MAIL_SMTP_UNAVAILABLE.labels(self.service).inc()
                    log.warning("mail_smtp_unavailable", service=self.service, error=str(exc),
                                backoff_s=round(smtp_backoff, 2))
                    await self._sleep(smtp_backoff)
                    smtp_backoff = min(smtp_backoff * 2, self.config.max_backoff)
                    continue
            rows = await conn.fetch(self._claim_sql, self.key, self.config.batch_size)
            if not rows:
                if self.smtp.client is not None and now - self.smtp.last_used > self.config.idle_disconnect:
                    await self.smtp.close()
                await self._wait(self.config.poll_interval)
                continue
            batch = sorted((_claimed(row) for row in rows), key=lambda claimed: claimed.id)
            try:
                await self._send_batch(conn, batch)
                smtp_backoff = 0.2
            except SmtpUnavailable as exc:
                MAIL_SMTP_UNAVAILABLE.labels(self.service).inc()
                log.warning("mail_smtp_unavailable", service=self.service, error=str(exc),
                            backoff_s=round(smtp_backoff, 2))
                await self._sleep(smtp_backoff)
                smtp_backoff = min(smtp_backoff * 2, self.config.max_backoff)
            finally:
                self._record_soon()

    async def _send_batch(self, conn: asyncpg.Connection, batch: list[_Claimed]) -> None:
        """Send the batch in order; whatever is not sent when it stops early goes back to the queue, uncharged."""
        pending = list(batch)
        try:
            while pending:
                if self._stopping.is_set():
                    return
                if conn.is_closed():  # our lock went with it: another sender may take these rows now
                    raise asyncpg.InterfaceError("the sender's database connection closed")
                await _uninterrupted(self._send_one(conn, pending[0]))
                pending.pop(0)
        finally:
            if pending and not conn.is_closed():
                await conn.execute(self._release_sql, [row.id for row in pending], self.key)

    async def _send_one(self, conn: asyncpg.Connection, row: _Claimed) -> None:
        try:
            client = await self.smtp.connected()
        except SmtpUnavailable as exc:
            self._smtp_state(str(exc))
            raise
        try:
            refused, _ = await client.sendmail(row.mail_from, row.recipients, row.message)
        except Exception as exc:
            disposition = classify(exc)
            error = _smtp_error(exc)
            if disposition is Disposition.UNAVAILABLE:
                await self.smtp.close()
                self._smtp_state(error)
                raise SmtpUnavailable(error) from exc
            if not client.is_connected or isinstance(exc, SMTPTimeoutError):
                await self.smtp.close()  # a connection that dropped or hung mid-message is not used again
            self.smtp.last_used = time.monotonic()
            self._smtp_state(None)
            await self._failed_attempt(conn, row, disposition, error)
            return
        # Accepted: from here until the mark commits is the one window (a crash now sends it again, same bytes).
        failpoints.hit(FAILPOINT_AFTER_ACCEPT)
        await self._finish(conn, row, MailStatus.SENT, _refusals(refused) if refused else None)
        self.smtp.last_used = time.monotonic()
        self._smtp_state(None)

    async def _failed_attempt(self, conn: asyncpg.Connection, row: _Claimed, disposition: Disposition,
                              error: str) -> None:
        if disposition is Disposition.BOUNCED:
            await self._finish(conn, row, MailStatus.BOUNCED, error)
        elif disposition is Disposition.FAILED or row.attempts + 1 >= self.config.max_attempts:
            await self._finish(conn, row, MailStatus.FAILED, error)
        else:
            wait = min(self.config.first_retry * 2 ** row.attempts, self.config.max_retry)
            await conn.execute(self._defer_sql, row.id, self.key, wait, error)
            MAIL_OUTCOMES.labels(self.service, "deferred").inc()
            log.info("mail_deferred", service=self.service, message_id=row.message_id, error=error,
                     retry_in_s=wait.total_seconds())

    async def _finish(self, conn: asyncpg.Connection, row: _Claimed, status: MailStatus, error: str | None) -> None:
        result = await conn.execute(self._finish_sql, row.id, self.key, status.value, error)
        if result != "UPDATE 1":
            # Put back by another sender, which took our lock for gone (our connection dropped): it sends the mail
            # again and records it then. A double, of the kind the module's docstring allows.
            log.warning("mail_taken_over", service=self.service, message_id=row.message_id)
            return
        MAIL_OUTCOMES.labels(self.service, status.value).inc()

    # --- recording outcomes ----------------------------------------------------------------------------------

    def _record_soon(self) -> None:
        """Record the marked outcomes in the background (sending goes on meanwhile), one pass at a time."""
        if self.on_outcomes is not None and (self._recording is None or self._recording.done()):
            self._recording = asyncio.create_task(self._record_all(), name=f"{self.service}-mail-outcomes")

    async def _record_all(self) -> None:
        if self.on_outcomes is None:
            return
        if self._recording is not None and self._recording is not asyncio.current_task():
            with contextlib.suppress(Exception):
                await self._recording  # the pass under way, then one more for what came since
        elif not self._stopping.is_set():
            await self._sleep(self.config.record_linger)  # outcomes of the mails sent meanwhile join this pass
        try:
            while await self._record_batch() == self.config.record_batch_size:
                pass
            self._hook_error = None
        except Exception as exc:  # the database, or a bug in the hook: tried again on the next pass
            self._hook_error = _short(exc)
            log.error("mail_outcomes_not_recorded", service=self.service, error=_short(exc))

    async def _record_batch(self) -> int:
        """Record one batch of the outcomes no one has recorded yet (this sender's or a dead one's); how many."""
        assert self.on_outcomes is not None
        async with self.transactions() as tx:
            rows = (await tx.session.execute(self._take_outcomes, {"limit": self.config.record_batch_size})).all()
            if not rows:
                return 0
            outcomes = [MailOutcome(mail_id=row.id, message_id=row.message_id,
                                    cause=MailCause(row.cause_kind, row.cause_id), status=MailStatus(row.status),
                                    attempts=row.attempts, recipients=tuple(row.recipients), error=row.last_error)
                        for row in rows]
            await self.on_outcomes(tx, outcomes)
            await tx.session.execute(self._stamp_recorded, {"ids": [outcome.mail_id for outcome in outcomes]})
            await tx.commit()
        return len(outcomes)

    # --- upkeep ----------------------------------------------------------------------------------------------

    async def _recover(self, conn: asyncpg.Connection) -> None:
        recovered = await conn.fetch(self._recover_sql, self.key)
        if recovered:
            log.warning("mail_recovered_from_dead_sender", service=self.service, rows=len(recovered))

    async def _prune(self, conn: asyncpg.Connection) -> None:
        assert self.config.retention is not None
        while (await conn.execute(self._prune_sql, self.config.retention)) == "DELETE 1000":
            pass

    def _smtp_state(self, error: str | None) -> None:
        self._smtp_error = error
        self._smtp_checked_at = time.monotonic()

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # --- readiness -------------------------------------------------------------------------------------------

    async def readiness(self) -> dict[str, Any]:
        """The sender's component of /health/ready: can it reach the SMTP server, has due mail waited too long, are
        outcomes waiting to be recorded. While the sender has no connection open, the server is probed (at most
        every 10 seconds)."""
        result: dict[str, Any] = {}
        errors = []
        if self.smtp.client is None and time.monotonic() - self._smtp_checked_at > 10:
            try:
                await self.smtp.probe(within=2)
                self._smtp_state(None)
            except SmtpUnavailable as exc:
                self._smtp_state(str(exc))
        result["smtp"] = "reachable" if self._smtp_error is None else "unreachable"
        if self._smtp_error is not None:
            errors.append(f"SMTP server {self.smtp.config.host}:{self.smtp.config.port}: {self._smtp_error}")
        if self._database_error is not None:
            errors.append(f"database: {self._database_error}")
        try:
            stats = await asyncio.wait_for(self._queue(), 2)
            MAIL_QUEUED.labels(self.service).set(stats["queued"])
            result.update(stats)
            limit = self.config.overdue_limit.total_seconds()
            if stats["oldest_due_age_seconds"] > limit:
                errors.append(f"due mail has waited {stats['oldest_due_age_seconds']:.0f}s")
            if stats["oldest_unrecorded_age_seconds"] > limit:
                errors.append(f"outcomes have waited {stats['oldest_unrecorded_age_seconds']:.0f}s to be recorded"
                              + (f" ({self._hook_error})" if self._hook_error else ""))
        except Exception as exc:
            errors.append(f"database: {_short(exc)}")
        result["ok"] = not errors
        if errors:
            result["error"] = "; ".join(errors)
        return result

    async def _queue(self) -> dict[str, Any]:
        table = self.outbox.table
        waiting = table.c.status == MailStatus.QUEUED.value
        unrecorded = text(self._unrecorded)
        async with self.transactions() as tx:
            queued, sending, oldest_due, now = (await tx.session.execute(select(
                func.count().filter(waiting),
                func.count().filter(table.c.status == MailStatus.SENDING.value),
                func.min(table.c.next_attempt_at).filter(waiting & (table.c.next_attempt_at <= func.now())),
                func.now(),
            ).where(table.c.status.in_([MailStatus.QUEUED.value, MailStatus.SENDING.value])))).one()
            not_recorded, oldest_finished = (await tx.session.execute(
                select(func.count(), func.min(table.c.finished_at)).where(unrecorded))).one()
        return {"queued": queued, "sending": sending, "unrecorded_outcomes": not_recorded,
                "oldest_due_age_seconds": _age(now, oldest_due),
                "oldest_unrecorded_age_seconds": _age(now, oldest_finished)}


async def _uninterrupted(work: Awaitable[None]) -> None:
    """Run `work` to its end even if we are cancelled meanwhile (then re-raise the cancellation). `ServiceRuntime`
    stops its jobs by cancelling them: a message cut off between the server's acceptance and its mark would be sent
    again, so the message in hand is always finished, and only then does the sender stop."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


def _age(now: Any, then: Any) -> float:
    return round((now - then).total_seconds(), 3) if then is not None else 0.0


def _claimed(row: asyncpg.Record) -> _Claimed:
    return _Claimed(id=row["id"], message_id=row["message_id"], mail_from=row["mail_from"],
                    recipients=tuple(row["recipients"]), message=row["message"], attempts=row["attempts"])


def _smtp_error(exc: BaseException) -> str:
    if isinstance(exc, SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)[:1000]
    if isinstance(exc, SMTPResponseException):
        return f"{exc.code} {exc.message}"[:1000]
    return _short(exc)


def _refusals(refused: dict[str, SMTPResponse]) -> str:
    return "refused: " + "; ".join(f"{address}: {r.code} {r.message}" for address, r in refused.items())[:1000]


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]

