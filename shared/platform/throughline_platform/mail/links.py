"""Signed, expiring public links: an invoice's client page, a quote's acceptance page, unsubscribe.

A token carries a subject id and an expiry, and is signed with HMAC-SHA256 under the issuing service's secret
over those and a purpose ("invoice-page", "unsubscribe"), so a token made for one purpose opens nothing else.
HMAC rather than Ed25519 because the service that issues a link is the one that checks it: nobody else needs to
verify it, a shared secret is all it takes, and the token is shorter. Verification checks the signature before
anything else (in constant time): a forged, altered or wrong-purpose token is `LinkInvalid` (answer 403), and only
a genuine one can be `LinkExpired` (410), so the difference tells an attacker nothing.

Format: base64url (no padding) of version (1 byte) | subject UUID (16) | expiry, Unix seconds (8, big-endian) |
HMAC-SHA256 (32): 76 characters. `previous` secrets still verify while a new one signs (rotation).
"""

import base64
import binascii
import hashlib
import hmac
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from throughline_platform.problems import ProblemError

VERSION = 1
_BODY = struct.Struct(">B16sQ")
_MAC_SIZE = 32
MIN_SECRET_BYTES = 32


class LinkInvalid(Exception):
    """Forged, altered, truncated, or made for another purpose: answer 403 and show nothing."""


class LinkExpired(Exception):
    """A genuine link past its expiry: answer 410 (the page may offer to send a new one)."""


@dataclass(frozen=True)
class LinkClaims:
    purpose: str
    subject: uuid.UUID
    expires_at: datetime


class LinkSigner:
    def __init__(self, secret: str | bytes, *, previous: Sequence[str | bytes] = ()) -> None:
        keys = [_key(secret), *(_key(old) for old in previous)]
        for key in keys:
            if len(key) < MIN_SECRET_BYTES:
                raise ValueError(f"a link secret needs at least {MIN_SECRET_BYTES} bytes")
        self._keys = keys

    def sign(self, purpose: str, subject: uuid.UUID, expires: datetime | timedelta) -> str:
        expires_at = datetime.now(UTC) + expires if isinstance(expires, timedelta) else expires
        if expires_at.tzinfo is None:
            raise ValueError("the expiry needs a time zone")
        body = _BODY.pack(VERSION, subject.bytes, int(expires_at.timestamp()))
        return base64.urlsafe_b64encode(body + _mac(self._keys[0], purpose, body)).rstrip(b"=").decode()

    def verify(self, token: str, purpose: str, *, now: datetime | None = None) -> LinkClaims:
        """The claims of a genuine, unexpired token made for `purpose`; else `LinkInvalid` or `LinkExpired`."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise LinkInvalid("not a link token") from None
        if len(raw) != _BODY.size + _MAC_SIZE:
            raise LinkInvalid("not a link token")
        body, mac = raw[:_BODY.size], raw[_BODY.size:]
        # Every key is tried (no early exit), so the time taken does not tell which one matched.
        genuine = False
        for key in self._keys:
            genuine |= hmac.compare_digest(mac, _mac(key, purpose, body))
        if not genuine:
            raise LinkInvalid("the link's signature does not match")
        version, subject, expiry = _BODY.unpack(body)
        if version != VERSION:
            raise LinkInvalid(f"unknown link version {version}")
        expires_at = datetime.fromtimestamp(expiry, UTC)
        if (now or datetime.now(UTC)) >= expires_at:
            raise LinkExpired(f"the link expired at {expires_at.isoformat()}")
        return LinkClaims(purpose=purpose, subject=uuid.UUID(bytes=subject), expires_at=expires_at)


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _mac(key: bytes, purpose: str, body: bytes) -> bytes:
    if not purpose or "\0" in purpose:
        raise ValueError("a link purpose is a non-empty name")
    return hmac.new(key, b"throughline-link\0" + purpose.encode() + b"\0" + body, hashlib.sha256).digest()


class LinkForbidden(ProblemError):
    """A public page's answer to a forged, altered or wrong-purpose link (or one whose subject is gone)."""

    status, type_slug, title = 403, "link-invalid", "This link is not valid"


class LinkGone(ProblemError):
    """A public page's answer to a genuine link past its expiry."""

    status, type_slug, title = 410, "link-expired", "This link has expired"


def verified(signer: LinkSigner, token: str, purpose: str, *, invalid: str, expired: str) -> LinkClaims:
    """The claims of a genuine, unexpired link, or the problem a public page answers with: 403 (`invalid`, the
    detail shown) for anything forged, altered or made for another purpose, 410 (`expired`) once expired."""
    try:
        return signer.verify(token, purpose)
    except LinkExpired:
        raise LinkGone(expired) from None
    except LinkInvalid:
        raise LinkForbidden(invalid) from None
