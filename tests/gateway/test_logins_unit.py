"""Login throttling, the password policy and normalisation, session revocation and the live stream's reaction to it,
with fakes (a clock, no processes, no database)."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.auth import service
from gateway.auth.service import PasswordChecks
from gateway.auth.throttle import HashingGate, Limits, LoginThrottle, TooManyAttempts
from gateway.credentials import passwords
from gateway.credentials.passwords import WeakPassword, check_new_password, legacy_forms, normalise
from gateway.credentials.tokens import TokenIssuer, generate_private_key_pem
from gateway.live import LiveHub
from gateway.ratelimit import address_key
from gateway.sessions import SessionRevocations, issued_at
from throughline_platform.auth import TokenVerifier


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _refused_for(throttle: LoginThrottle, account: str, address: str) -> int:
    with pytest.raises(TooManyAttempts) as refused:
        throttle.begin(account, address)
    assert refused.value.status == 429 and refused.value.type_slug == "login-throttled"
    return refused.value.retry_after


def test_after_the_free_attempts_each_failure_doubles_the_wait() -> None:
    clock = Clock()
    throttle = LoginThrottle(Limits(account_free=3, address_free=100), clock=clock)
    for _ in range(3):
        throttle.begin("Ada@Example.com", "198.51.100.1")  # free (each counted as a failure until it succeeds)
    throttle.begin("ada@example.com ", "198.51.100.2")  # the 4th: allowed, and it starts a 1 s wait
    assert _refused_for(throttle, "ada@example.com", "198.51.100.3") == 1  # the account, from any address
    waits = []
    for _ in range(4):
        clock.now += 100  # well past the wait
        throttle.begin("ada@example.com", "198.51.100.1")
        clock.now += 0.001
        waits.append(_refused_for(throttle, "ada@example.com", "198.51.100.1"))
    assert waits == [2, 4, 8, 16]
    throttle.begin("grace@example.com", "198.51.100.1")  # another account is not held up by Ada's


def test_the_wait_is_capped_and_forgotten_after_an_hour_of_quiet() -> None:
    clock = Clock()
    throttle = LoginThrottle(Limits(account_free=1, address_free=100, max_delay=60), clock=clock)
    for _ in range(12):
        clock.now += 100  # past any wait (at most 60 s), well within the hour
        throttle.begin("a@example.com", "x")
    clock.now += 1
    assert _refused_for(throttle, "a@example.com", "x") == 59  # capped at 60 s
    clock.now += 3600 + 60
    throttle.begin("a@example.com", "x")  # a fresh start: one free attempt again
    throttle.begin("a@example.com", "x")
    assert _refused_for(throttle, "a@example.com", "x") == 1


def test_a_success_clears_the_account_but_not_the_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(Limits(account_free=2, address_free=3), clock=clock)
    for account in ("a@example.com", "b@example.com", "c@example.com"):
        throttle.begin(account, "203.0.113.9")  # the address's 3 free attempts
    throttle.begin("a@example.com", "203.0.113.9")  # its 4th: allowed, and the address must wait now...
    throttle.succeeded("a@example.com", "203.0.113.9")  # ...but it was right: its mark and that wait go
    throttle.begin("a@example.com", "203.0.113.9")  # so this one is allowed at once (and starts a wait again)
    throttle.succeeded("a@example.com", "203.0.113.9")
    for _ in range(2):
        throttle.begin("a@example.com", "198.51.100.4")  # a's account count started afresh: 2 free attempts
    # b's and c's failures still count against the address.
    throttle.begin("e@example.com", "203.0.113.9")
    assert _refused_for(throttle, "d@example.com", "203.0.113.9") == 1
    clock.now += 1
    throttle.begin("d@example.com", "203.0.113.9")


def test_a_parallel_burst_reaches_the_password_check_only_free_attempts_plus_one_times() -> None:
    throttle = LoginThrottle(Limits(account_free=5, address_free=1000), clock=Clock())
    allowed = refused = 0
    for _ in range(60):  # all started before any of them was checked
        try:
            throttle.begin("target@example.com", "192.0.2.1")
            allowed += 1
        except TooManyAttempts:
            refused += 1
    assert (allowed, refused) == (6, 54)


def test_ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7" and address_key("192.0.2.7") == "192.0.2.7"
    assert address_key(None) == "unknown"


async def test_a_throttled_attempt_costs_no_database_and_no_argon2_work(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[str] = []

    def verify_password(_hash: str | None, password: str) -> bool:
        hashed.append(password)
        return False

    monkeypatch.setattr(service, "verify_password", verify_password)
    throttle = LoginThrottle(Limits(account_free=0, address_free=100), clock=Clock())
    throttle.begin("victim@example.com", "192.0.2.5")  # sets a wait
    checks = PasswordChecks(throttle, HashingGate())
    session: Any = None  # any use of the database would fail
    with pytest.raises(TooManyAttempts):
        await service.authenticate(session, checks, "victim@example.com", "guess-number-2", "192.0.2.5")
    assert hashed == []


async def test_the_hashing_gate_refuses_at_once_when_too_many_are_waiting() -> None:
    gate = HashingGate(slots=1, queue=2)
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.slot():
            await release.wait()

    holders = [asyncio.create_task(hold()) for _ in range(3)]  # one inside, two waiting
    await asyncio.sleep(0.01)
    with pytest.raises(TooManyAttempts) as refused:
        async with gate.slot():
            pass
    assert refused.value.retry_after == 1
    release.set()
    await asyncio.gather(*holders)
    async with gate.slot():  # free again
        pass


def test_the_policy_refuses_short_common_and_own_email_passwords() -> None:
    for weak in ("short", "12345678", "password", "PassWord", "qwertyuiop", "Ada.Lovelace@example.com", "ada.lovelace"):
        with pytest.raises(WeakPassword) as refused:
            check_new_password(weak, "ada.lovelace@example.com")
        assert refused.value.status == 422 and refused.value.type_slug == "weak-password"
    with pytest.raises(WeakPassword):
        check_new_password("x" * 201)
    assert check_new_password("  a long and unusual phrase  ") == "  a long and unusual phrase  "  # never trimmed
    assert len(passwords.common_passwords()) > 8000


def test_every_path_normalises_the_same_way_nfkc_and_nothing_else() -> None:
    assert normalise("\ufb01sh and chips") == "fish and chips"  # a ligature from another keyboard
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in "Fullwidth")  # as a Japanese keyboard may type it
    assert normalise(f"{full_width} pass") == "Fullwidth pass"
    assert normalise(" spaced ") == " spaced " and normalise("CaSe") == "CaSe"
    # What older versions may have hashed instead: trimmed (user creation trimmed) and un-normalised.
    assert legacy_forms(" padded secret ") == ["padded secret"]
    assert legacy_forms("\ufb01sh and chips") == ["\ufb01sh and chips"]
    assert legacy_forms("plain secret") == []


def _issuer() -> TokenIssuer:
    return TokenIssuer(generate_private_key_pem(), timedelta(minutes=15), timedelta(days=1))


def test_tokens_issued_before_a_revocation_are_refused_and_later_ones_are_not() -> None:
    issuer = _issuer()
    verifier = TokenVerifier(issuer.public_key_pem)
    user_id = str(uuid.uuid4())
    before = verifier.verify(issuer.access_token(user_id=user_id, email="a@example.com", role="admin"))
    other = verifier.verify(issuer.access_token(user_id=str(uuid.uuid4()), email="b@example.com", role="admin"))
    revocations = SessionRevocations(session_factory=None, token_lifetime=timedelta(minutes=15))  # type: ignore[arg-type]
    assert not revocations.is_revoked(before)
    revocations.note(user_id, datetime.now(UTC))
    after = verifier.verify(issuer.access_token(user_id=user_id, email="a@example.com", role="viewer"))
    assert revocations.is_revoked(before) and not revocations.is_revoked(after) and not revocations.is_revoked(other)
    assert issued_at(after.token) > issued_at(before.token)  # to the microsecond, not the second


def test_the_cost_of_the_revocation_check_per_request_is_a_dict_lookup() -> None:
    issuer = _issuer()
    principal = TokenVerifier(issuer.public_key_pem).verify(
        issuer.access_token(user_id=str(uuid.uuid4()), email="a@example.com", role="sales"))
    revocations = SessionRevocations(session_factory=None, token_lifetime=timedelta(minutes=15))  # type: ignore[arg-type]
    for n in range(1000):  # a thousand other users' recent revocations
        revocations.note(str(uuid.uuid4()), datetime.now(UTC) - timedelta(seconds=n))
    started = time.perf_counter()
    for _ in range(100_000):
        revocations.is_revoked(principal)
    per_call = (time.perf_counter() - started) / 100_000
    assert per_call < 5e-6, f"{per_call * 1e6:.2f} µs per check"


async def test_a_revocation_ends_the_users_live_streams_at_once_and_no_others() -> None:
    revocations = SessionRevocations(session_factory=None, token_lifetime=timedelta(minutes=15))  # type: ignore[arg-type]
    hub = LiveHub("127.0.0.1:1")
    hub.start = lambda: None  # type: ignore[method-assign]  # no Kafka here
    revocations.on_change(lambda: hub.end_revoked(revocations))
    user = str(uuid.uuid4())
    old = hub.subscribe((), user, time.time() - 5)
    bystander = hub.subscribe((), str(uuid.uuid4()), time.time() - 5)
    hub.publish("deal.won", "1", "{}")  # something queued for the old session: dropped with it
    revocations.note(user, datetime.now(UTC))
    assert old.revoked and old not in hub.subscribers and old.queue.get_nowait() is None
    fresh = hub.subscribe((), user, time.time() + 1)  # logged in again afterwards
    revocations.note(str(uuid.uuid4()), datetime.now(UTC))
    assert not bystander.revoked and bystander in hub.subscribers and not fresh.revoked
