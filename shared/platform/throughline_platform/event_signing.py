"""Signed events: each producer signs what it publishes (Ed25519), every reader verifies before it believes it.

Anyone who can reach a broker can write to it, and an event is an order to another service ("make a project and
bill 999,999"). So a service signs each record it publishes with its own private key, and a reader accepts a
record only if

- it carries a signature and the id of the key that made it (headers `signature` and `signature_key_id`);
- that key id is in the reader's key ring, which maps key ids to public keys and the service each may sign for;
- the signature is valid over the record's topic, key and exact value bytes (and the key id), so a signed event
  can be neither altered nor moved to another topic or key;
- the topic belongs to that service (`crm.*` to the CRM, `erp.*` to the ERP): the ERP's key cannot vouch for a
  `crm.deal.events` record;
- and, once decoded, the envelope's `producer` is that service too (`check_producer`).

What fails is refused with `EventRejected`, whose `reason` (`unsigned`, `unknown_key`, `bad_signature`,
`wrong_producer`) a consumer puts on the dead letter. Headers other than these two are not signed: they repeat
what the value says (event id, type, version, correlation id) and nothing may trust them over the value.

Several keys per service may be in the ring at once: that is how keys are rotated (docs/security.md).

The gateway reads events too (its live stream) without the messaging package, hence this module's place.
"""

import base64
import binascii
import hashlib
import json
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

SIGNATURE_HEADER = "signature"
KEY_ID_HEADER = "signature_key_id"
# Domain separation: these bytes start every signed message, so a signature made here means "this record, on this
# topic" and nothing else, whatever else an Ed25519 key might ever sign.
_CONTEXT = b"throughline-event-signature-v1\x00"
_NO_KEY = b"\x00"
_HAS_KEY = b"\x01"
_LENGTH = struct.Struct(">I")


class EventKeyError(ValueError):
    """A signing key or key ring that cannot be used (bad PEM, not Ed25519, bad JSON): a configuration error."""


class EventRejected(Exception):
    """A record whose origin cannot be trusted. `reason` names why, as dead letters and metrics do."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def topic_service(topic: str) -> str:
    """The service a topic belongs to: its first dotted part (`crm.deal.events` -> `crm`)."""
    return topic.partition(".")[0]


def signed_message(*, key_id: str, topic: str, key: bytes | None, value: bytes) -> bytes:
    """The bytes a signature covers. Each variable part is length-prefixed (and a missing key told apart from an
    empty one), so no two different records can make the same message."""
    key_id_bytes, topic_bytes = key_id.encode(), topic.encode()
    parts = [_CONTEXT, _LENGTH.pack(len(key_id_bytes)), key_id_bytes, _LENGTH.pack(len(topic_bytes)), topic_bytes]
    if key is None:
        parts.append(_NO_KEY)
    else:
        parts += [_HAS_KEY, _LENGTH.pack(len(key)), key]
    parts.append(value)
    return b"".join(parts)


@dataclass(frozen=True)
class VerifyingKey:
    key_id: str
    service: str
    public_key: Ed25519PublicKey


class KeyRing:
    """Key id -> the public key and the service it signs for. Parsed once; read by every verification."""

    def __init__(self, keys: Iterable[VerifyingKey]) -> None:
        self.keys: dict[str, VerifyingKey] = {}
        for key in keys:
            if key.key_id in self.keys:
                raise EventKeyError(f"key id {key.key_id!r} is in the ring twice")
            self.keys[key.key_id] = key

    @classmethod
    def from_json(cls, text: str) -> "KeyRing":
        """`{"<key id>": {"service": "crm", "public_key": "-----BEGIN PUBLIC KEY-----..."}, ...}`"""
        try:
            entries = json.loads(text)
        except ValueError as exc:
            raise EventKeyError(f"the event verification key ring is not JSON: {exc}") from None
        if not isinstance(entries, dict) or not entries:
            raise EventKeyError("the event verification key ring must be a non-empty JSON object "
                                '{"<key id>": {"service": ..., "public_key": <PEM>}}')
        keys = []
        for key_id, entry in entries.items():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("service"), str) \
                    or not isinstance(entry.get("public_key"), str):
                raise EventKeyError(f"key {key_id!r} of the ring needs a \"service\" and a \"public_key\" (PEM)")
            keys.append(VerifyingKey(key_id, entry["service"], load_public_key(entry["public_key"], key_id)))
        return cls(keys)

    def to_json(self) -> str:
        return json.dumps({key.key_id: {"service": key.service, "public_key": public_key_pem(key.public_key)}
                           for key in self.keys.values()})

    def services(self) -> set[str]:
        return {key.service for key in self.keys.values()}


class EventSigner:
    """Signs the records one service publishes, with one private key (its current one)."""

    def __init__(self, key_id: str, service: str, private_key: Ed25519PrivateKey) -> None:
        if not key_id:
            raise EventKeyError("a signing key needs a key id")
        self.key_id = key_id
        self.service = service
        self._private_key = private_key
        self._key_id_header = (KEY_ID_HEADER, key_id.encode())

    @classmethod
    def from_pem(cls, key_id: str, service: str, private_key_pem: str) -> "EventSigner":
        return cls(key_id, service, load_private_key(private_key_pem))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private_key.public_key()

    def headers(self, topic: str, key: bytes | None, value: bytes) -> list[tuple[str, bytes]]:
        """The two headers to add to the record (`topic`, `key`, `value`) as it will be published."""
        if topic_service(topic) != self.service:
            # The readers would refuse it: better to fail here, loudly, than to publish what every consumer parks.
            raise EventKeyError(f"the {self.service} key does not sign for topic {topic!r}")
        signature = self._private_key.sign(signed_message(key_id=self.key_id, topic=topic, key=key, value=value))
        return [self._key_id_header, (SIGNATURE_HEADER, base64.b64encode(signature))]


class EventVerifier:
    """Checks records against a key ring; `verify` returns the key that signed, or raises `EventRejected`."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    def verify(self, topic: str, key: bytes | None, value: bytes | None,
               headers: Iterable[tuple[str, bytes]] | None) -> VerifyingKey:
        signatures: list[bytes] = []
        key_ids: list[bytes] = []
        for name, header_value in headers or ():
            if name == SIGNATURE_HEADER:
                signatures.append(header_value)
            elif name == KEY_ID_HEADER:
                key_ids.append(header_value)
        if not signatures:
            raise EventRejected("unsigned", "the record has no signature header")
        if len(signatures) > 1 or len(key_ids) > 1:
            # Which one would count? Neither: a producer writes one of each.
            raise EventRejected("bad_signature", "the record has more than one signature or key id header")
        if not key_ids:
            raise EventRejected("unknown_key", "the record's signature names no key id")
        try:
            key_id = key_ids[0].decode()
        except UnicodeDecodeError:
            raise EventRejected("unknown_key", "the record's key id is not UTF-8") from None
        signer = self.ring.keys.get(key_id)
        if signer is None:
            raise EventRejected("unknown_key", f"key id {key_id[:100]!r} is not in the key ring")
        if topic_service(topic) != signer.service:
            raise EventRejected("wrong_producer",
                                f"key {key_id!r} signs for {signer.service}, not for topic {topic!r}")
        try:
            signature = base64.b64decode(signatures[0], validate=True)
        except (binascii.Error, ValueError):
            raise EventRejected("bad_signature", "the signature header is not base64") from None
        if value is None:
            raise EventRejected("bad_signature", "the record has no value to verify")
        try:
            signer.public_key.verify(signature, signed_message(key_id=key_id, topic=topic, key=key, value=value))
        except InvalidSignature:
            raise EventRejected("bad_signature",
                                f"the signature does not match the record for key {key_id!r}") from None
        return signer


def check_producer(signer: VerifyingKey, producer: str) -> None:
    """A verified record's decoded envelope must name the service whose key signed it."""
    if producer != signer.service:
        raise EventRejected("wrong_producer",
                            f"the envelope says producer {producer[:100]!r}, key {signer.key_id!r} signs for "
                            f"{signer.service}")


# --- keys ---------------------------------------------------------------------------------------------------------

def load_private_key(pem: str) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise EventKeyError(f"the event signing key is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise EventKeyError("the event signing key must be an Ed25519 private key")
    return key


def load_public_key(pem: str, key_id: str = "") -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise EventKeyError(f"public key {key_id!r} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise EventKeyError(f"public key {key_id!r} must be an Ed25519 key")
    return key


def new_private_key_pem() -> str:
    return Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def public_key_pem(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def key_id_for(service: str, key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """A key id naming its service and its key (a fingerprint), e.g. `crm-3f2a9c0d1e4b`: a new key gets a new id
    by itself. Any unique string will do as a key id; this is the one the dev stack and the docs use."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return f"{service}-{hashlib.sha256(raw).hexdigest()[:12]}"
