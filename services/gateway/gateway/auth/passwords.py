"""Password hashing with Argon2id.

Parameters: OWASP's recommended Argon2id configuration (19 MiB, 2 passes, 1 lane), not argon2-cffi's default
(RFC 9106's 64 MiB, 3 passes, 4 lanes): OWASP rates the two as equally resistant, and 64 MiB per login pushed
the gateway's resident memory past its 150 MB budget (issue 7) whenever a few people logged in at once.
Hashes made with other parameters still verify (the parameters are part of the hash) and are re-hashed with these
at the next successful login.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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
