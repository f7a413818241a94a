"""Password hashing with Argon2id.

Parameters: OWASP's recommended Argon2id configuration (19 MiB, 2 passes, 1 lane), not argon2-cffi's default
(RFC 9106's 64 MiB, 3 passes, 4 lanes): OWASP rates the two as equally resistant, and 64 MiB per login pushed
the gateway's resident memory past its 150 MB budget (issue 7) whenever a few people logged in at once.
Hashes made with other parameters still verify (the parameters are part of the hash) and are re-hashed with these
at the next successful login.
"""

import contextlib
import ctypes
import ctypes.util

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def _hand_big_buffers_back_to_the_os() -> None:
    """Each hash allocates 19 MiB. glibc serves the first such block by mmap and gives it back when freed, but then
    raises its mmap threshold to that size, so later blocks come from the heap and stay resident (+19 MiB of RSS
    per thread that ever hashed). A fixed threshold (which turns the adjustment off) keeps them mmap'd."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        ctypes.CDLL(libc_name).mallopt(-3, 4 << 20)  # M_MMAP_THRESHOLD = 4 MiB


_hand_big_buffers_back_to_the_os()
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this when the user does not exist keeps the response time the same (no user enumeration).
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True for a hash made with other parameters than today's (an older default)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False
