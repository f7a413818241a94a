"""Logins and sessions against the real gateway: throttling (per account, per client address), the password policy
and its one normalisation, self-service password change, and sessions that end at once: a demoted or disabled
admin is refused on the next call, their access tokens and live stream included.

Each test sends its attempts from its own client address (`X-Forwarded-For`, honoured from 127.0.0.1, the proxy
uvicorn trusts by default), so that one test's failures do not hold up another's logins."""

import concurrent.futures
import math
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from devstack.ports import free_port
from devstack.processes import ServiceProcess
from devstack.stack import Stack
from tests.gateway.helpers import assert_problem, client, gateway_url, issuer
from tests.support import Api

CHANGE = "/api/auth/password"


def _address() -> str:
    return f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _login(base: str, email: str, password: str, address: str) -> httpx.Response:
    return httpx.post(f"{base}/api/auth/token", data={"username": email, "password": password},
                      headers={"X-Forwarded-For": address}, timeout=15)


def _user(admin: Api, role: str = "sales", password: str = "plain sailing 77") -> dict[str, Any]:
    email = f"login-{uuid.uuid4().hex[:10]}@example.com"
    user: dict[str, Any] = admin.ok("POST", "/api/auth/users", 201,
                                    json={"email": email, "password": password, "role": role})
    return {**user, "password": password}


def test_login_throttled_per_account_with_growing_waits_and_a_success_resets_it(admin: Api, stack: Stack) -> None:
    base, user = gateway_url(stack), _user(admin)
    for n in range(6):  # five free wrong attempts, and a sixth that starts a 1 s wait
        assert_problem(_login(base, user["email"], f"wrong guess {n}", _address()), 401, "invalid-credentials")
    refused = _login(base, user["email"], user["password"], _address())  # even the right one, from anywhere
    body = assert_problem(refused, 429, "login-throttled")
    assert refused.headers["retry-after"] == "1" and body["retry_after"] == 1
    time.sleep(1.1)
    assert_problem(_login(base, user["email"], "wrong guess 6", _address()), 401)  # allowed, and the wait doubles
    second = _login(base, user["email"], user["password"], _address())
    assert_problem(second, 429, "login-throttled")
    assert second.headers["retry-after"] == "2"
    time.sleep(2.1)
    assert _login(base, user["email"], user["password"], _address()).status_code == 200
    # The success started the account afresh: five free attempts again.
    for n in range(5):
        assert_problem(_login(base, user["email"], f"typo {n}", _address()), 401, "invalid-credentials")


def test_login_throttled_per_client_address(admin: Api, stack: Stack) -> None:
    base, address = gateway_url(stack), _address()
    for n in range(20):  # twenty free attempts per address, spread over accounts
        assert_problem(_login(base, f"nobody-{n}-{uuid.uuid4().hex[:6]}@example.com", "guessing", address), 401)
    assert_problem(_login(base, f"nobody-{uuid.uuid4().hex[:6]}@example.com", "guessing", address), 401)
    refused = _login(base, f"nobody-{uuid.uuid4().hex[:6]}@example.com", "guessing", address)
    assert_problem(refused, 429, "login-throttled")
    # The same guesses from another address, and other people's logins, go on.
    user = _user(admin)
    assert _login(base, user["email"], user["password"], _address()).status_code == 200


def test_a_burst_of_parallel_guesses_mostly_costs_nothing(admin: Api, stack: Stack) -> None:
    base, user = gateway_url(stack), _user(admin)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(lambda n: _login(base, user["email"], f"burst {n}", _address()).status_code,
                                 range(30)))
    elapsed = time.monotonic() - started
    # Each attempt is counted when it starts: only the five free ones and the one that starts the wait reach the
    # password check, plus one more for each doubling wait (1 s, 2 s, 4 s ...) that a slow machine lets run out
    # before the burst ends; the rest are refused before any Argon2 work.
    allowed = 6 + math.floor(math.log2(1 + elapsed))
    assert 6 <= statuses.count(401) <= allowed and statuses.count(429) == 30 - statuses.count(401), (statuses, elapsed)


def test_common_and_short_passwords_are_refused_everywhere_a_password_is_set(admin: Api, stack: Stack) -> None:
    email = f"policy-{uuid.uuid4().hex[:8]}@example.com"
    for weak in ("12345678", "password", "Password1"):
        assert_problem(admin.post("/api/auth/users", json={"email": email, "password": weak, "role": "viewer"}),
                       422, "weak-password")
    assert_problem(admin.post("/api/auth/users", json={"email": email, "password": email, "role": "viewer"}),
                   422, "weak-password")
    user = _user(admin)
    assert_problem(admin.post(f"/api/auth/users/{user['id']}/password", json={"password": "password"}), 422,
                   "weak-password")
    tokens = _login(gateway_url(stack), user["email"], user["password"], _address()).json()
    with client(gateway_url(stack), token=tokens["access_token"]) as own:
        assert_problem(own.post(CHANGE, json={"current_password": user["password"], "new_password": "12345678"}),
                       422, "weak-password")
        assert_problem(own.post(CHANGE, json={"current_password": user["password"], "new_password": "short"}), 422)


def test_one_normalisation_on_every_path_nothing_trimmed(admin: Api, stack: Stack) -> None:
    base = gateway_url(stack)
    padded = _user(admin, password="  padded pass phrase  ")
    assert _login(base, padded["email"], "  padded pass phrase  ", _address()).status_code == 200
    assert_problem(_login(base, padded["email"], "padded pass phrase", _address()), 401)
    # NFKC: the same password typed with a ligature (or full-width letters) is the same password.
    reset = admin.post(f"/api/auth/users/{padded['id']}/password", json={"password": "\ufb01sh and chips on fridays"})
    assert reset.status_code == 204, reset.text
    assert _login(base, padded["email"], "fish and chips on fridays", _address()).status_code == 200
    assert _login(base, padded["email"], "\ufb01sh and chips on fridays", _address()).status_code == 200


def test_users_change_their_own_password_and_every_other_session_ends(admin: Api, stack: Stack) -> None:
    base, user = gateway_url(stack), _user(admin, role="finance")
    other = _login(base, user["email"], user["password"], _address()).json()  # another device
    mine = _login(base, user["email"], user["password"], _address()).json()
    with client(base, token=mine["access_token"]) as own:
        assert_problem(own.post(CHANGE, json={"current_password": "not it at all", "new_password": "brand new words"}),
                       401, "invalid-credentials")
        assert_problem(own.post(CHANGE, json={"current_password": user["password"],
                                              "new_password": user["password"]}), 422, "weak-password")
        changed = own.post(CHANGE, json={"current_password": user["password"], "new_password": "brand new words"})
        assert changed.status_code == 200, changed.text
        # This session's old access token ends with the others (at the gateway and on proxied calls alike).
        assert_problem(own.get("/api/auth/me"), 401, "token-revoked")
        assert_problem(own.get("/api/erp/invoices"), 401, "token-revoked")
    fresh = changed.json()
    with client(base, token=fresh["access_token"]) as renewed:
        assert renewed.get("/api/auth/me").json()["email"] == user["email"]
        assert renewed.get("/api/erp/invoices").status_code == 200
    for old in (other, mine):
        assert_problem(httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": old["refresh_token"]}), 401)
        with client(base, token=old["access_token"]) as stale:
            assert_problem(stale.get("/api/crm/companies"), 401, "token-revoked")
    assert httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": fresh["refresh_token"]}).status_code == 200
    assert_problem(_login(base, user["email"], user["password"], _address()), 401)
    assert _login(base, user["email"], "brand new words", _address()).status_code == 200


def test_an_api_key_has_no_password_to_change(admin: Api, stack: Stack) -> None:
    key = admin.ok("POST", "/api/auth/api-keys", 201, json={"name": "no password", "role": "viewer"})["key"]
    with client(gateway_url(stack), api_key=key) as machine:
        assert_problem(machine.post(CHANGE, json={"current_password": "x", "new_password": "long enough now"}), 403)


def test_a_demoted_admin_is_refused_at_once(admin: Api, stack: Stack) -> None:
    base, second = gateway_url(stack), _user(admin, role="admin")
    tokens = _login(base, second["email"], second["password"], _address()).json()
    with client(base, token=tokens["access_token"]) as demoted:
        assert demoted.get("/api/auth/users").status_code == 200
        admin.ok("PATCH", f"/api/auth/users/{second['id']}", json={"role": "viewer"})
        # The very next call: the token (still saying admin) is refused, for admin actions and everything else.
        assert_problem(demoted.post("/api/auth/users", json={"email": f"x-{uuid.uuid4().hex[:6]}@example.com",
                                                             "password": "new admin please", "role": "admin"}),
                       401, "token-revoked")
        assert_problem(demoted.get("/api/crm/companies"), 401, "token-revoked")
    assert_problem(httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": tokens["refresh_token"]}), 401)
    # Even an admin token minted after the demotion (a replica that has not heard of it yet would accept it):
    # admin actions read the caller's role in the database.
    stale_claim = issuer(stack).access_token(user_id=second["id"], email=second["email"], role="admin")
    with client(base, token=stale_claim) as claimed:
        assert_problem(claimed.get("/api/auth/users"), 403)
        assert_problem(claimed.post("/api/auth/api-keys", json={"name": "sneaky", "role": "admin"}), 403)


def test_a_disabled_admin_is_refused_at_once(admin: Api, stack: Stack) -> None:
    base, second = gateway_url(stack), _user(admin, role="admin")
    tokens = _login(base, second["email"], second["password"], _address()).json()
    admin.ok("PATCH", f"/api/auth/users/{second['id']}", json={"active": False})
    with client(base, token=tokens["access_token"]) as disabled:
        assert_problem(disabled.get("/api/auth/users"), 401, "token-revoked")
        assert_problem(disabled.get("/api/erp/projects"), 401, "token-revoked")
    minted = issuer(stack).access_token(user_id=second["id"], email=second["email"], role="admin")
    with client(base, token=minted) as claimed:
        assert_problem(claimed.get("/api/auth/users"), 401, "account-disabled")


@contextmanager
def _live(base: str, token: str) -> Iterator["queue.Queue[str]"]:
    """The event names of a live stream, read on a thread, once it said `ready`."""
    names: queue.Queue[str] = queue.Queue()
    ready = threading.Event()

    def read() -> None:
        with httpx.Client(timeout=httpx.Timeout(5, read=30)) as c, \
                c.stream("GET", f"{base}/api/live", params={"access_token": token}) as response:
            for line in response.iter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                    if name == "ready":
                        ready.set()
                    names.put(name)
            names.put("<closed>")

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(20), "the stream never said ready"
    yield names


def test_disabling_a_user_ends_their_live_stream_at_once(admin: Api, stack: Stack) -> None:
    base, user = gateway_url(stack), _user(admin, role="viewer")
    tokens = _login(base, user["email"], user["password"], _address()).json()
    with _live(base, tokens["access_token"]) as names:
        started = time.monotonic()
        admin.ok("PATCH", f"/api/auth/users/{user['id']}", json={"active": False})
        seen = []
        while "<closed>" not in seen:
            seen.append(names.get(timeout=10))
        assert "token-revoked" in seen and time.monotonic() - started < 5, seen
    assert_problem(httpx.get(f"{base}/api/live", params={"access_token": tokens["access_token"]}, timeout=5), 401,
                   "token-revoked")


def test_the_configured_admin_with_a_weak_password_logs_in_and_is_asked_to_change_it(stack: Stack) -> None:
    """`make run`'s admin / admin keeps working; the account is flagged until its password is changed."""
    email = f"first-admin-{uuid.uuid4().hex[:6]}@example.com"
    gateway = ServiceProcess("gateway-weak-admin", ["gateway", "serve"], {
        **stack.common_env(), "ADMIN_EMAIL": email, "ADMIN_PASSWORD": "admin", "GATEWAY_HEALTH_URLS": "{}"},
        free_port(), stack.var_dir / "log")
    gateway.start()
    try:
        gateway.wait_ready("/health/live")
        tokens = _login(gateway.url, email, "admin", _address())
        assert tokens.status_code == 200, tokens.text
        with client(gateway.url, token=tokens.json()["access_token"]) as first:
            assert first.get("/api/auth/me").json()["password_change_required"] is True
            renewed = first.post(CHANGE, json={"current_password": "admin", "new_password": "a much better one"})
            assert renewed.status_code == 200, renewed.text
        with client(gateway.url, token=renewed.json()["access_token"]) as changed:
            assert changed.get("/api/auth/me").json()["password_change_required"] is False
    finally:
        gateway.stop()
