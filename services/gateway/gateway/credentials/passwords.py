"""Passwords: one normalisation for every path, the policy for new passwords, hashing with Argon2id.

Normalisation (`normalise`): Unicode NFKC, nothing else. NIST SP 800-63B (5.1.1.2) asks verifiers not to alter what
people type (no trimming, no case folding: a space is a character like any other) and to apply NFKC (or NFKD) so
that the same password typed on two keyboards is the same string. Login, user creation, admin reset and
self-service change all go through it (before, creation trimmed spaces and the other paths did not, so a padded
password set by an admin could never be used to log in).

Policy (`check_new_password`), for every password set through the API: at least 8 characters (NIST's minimum),
at most 200 (long passphrases welcome), not one of the common passwords bundled with the gateway
(`common-passwords.txt.gz`, 8,351 entries from Django's list, see COMMON-PASSWORDS-NOTICE.txt), and not the
account's own email or its local part. No composition rules (NIST advises against them).

Parameters: OWASP's recommended Argon2id configuration (19 MiB, 2 passes, 1 lane), not argon2-cffi's default
(RFC 9106's 64 MiB, 3 passes, 4 lanes): OWASP rates the two as equally resistant, and 64 MiB per login pushed
the gateway's resident memory past its 150 MB budget (issue 7) whenever a few people logged in at once.
Hashes made with other parameters still verify (the parameters are part of the hash) and are re-hashed with these
at the next successful login.
"""

import contextlib
import ctypes
import ctypes.util
import gzip
import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from throughline_platform.problems import Unprocessable

MIN_LENGTH = 8
MAX_LENGTH = 200
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")


class WeakPassword(Unprocessable):
    type_slug = "weak-password"


def normalise(password: str) -> str:
    """The form every password is hashed and checked in (NFKC; nothing stripped, case kept)."""
    return unicodedata.normalize("NFKC", password)


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, normalised and case-folded (read once, on first use)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_new_password(password: str, email: str | None = None) -> str:
    """The normalised password if the policy accepts it as a new password; WeakPassword (422) says why not."""
    normalised = normalise(password)
    if len(normalised) < MIN_LENGTH:
        raise WeakPassword(f"The password must have at least {MIN_LENGTH} characters.")
    if len(normalised) > MAX_LENGTH:
        raise WeakPassword(f"The password may have at most {MAX_LENGTH} characters.")
    folded = normalised.casefold()
    if folded in common_passwords():
        raise WeakPassword("That password is one of the most common passwords; choose another (a few unrelated "
                           "words make a good one).")
    if email and folded in {email.casefold(), email.casefold().split("@")[0]}:
        raise WeakPassword("The password may not be the account's email address.")
    return normalised


def legacy_forms(password: str) -> list[str]:
    """Forms of a typed password that older versions may have hashed instead of its normalised form: without NFKC,
    and with spaces trimmed (user creation used to trim). Tried at login only after the normalised form failed, and
    only when they differ from it; the hash is then replaced with the normalised form's."""
    normalised = normalise(password)
    forms = [password, password.strip(), normalise(password.strip())]
    return [form for n, form in enumerate(forms) if form != normalised and form not in forms[:n] and form]


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
    """The hash of a password already normalised (`normalise`, `check_new_password`)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Does `password` (as given: the caller normalises) match? A missing hash costs the same time and is False."""
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
