"""Signing and verifying events (throughline_platform.event_signing), without a broker."""

import base64
import json

import pytest

from throughline_platform.event_signing import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    EventKeyError,
    EventRejected,
    EventSigner,
    EventVerifier,
    KeyRing,
    check_producer,
    key_id_for,
    new_private_key_pem,
    public_key_pem,
    signed_message,
)

TOPIC = "crm.deal.events"
KEY = b"5b7c3a4e-0000-4000-8000-000000000001"
VALUE = b'{"event_type": "deal.won", "producer": "crm", "data": {"amount": "12000.00"}}'


def signer_for(service: str, key_id: str | None = None) -> EventSigner:
    pem = new_private_key_pem()
    signer = EventSigner.from_pem("x", service, pem)
    return EventSigner.from_pem(key_id or key_id_for(service, signer.public_key), service, pem)


def ring_of(*signers: EventSigner) -> KeyRing:
    return KeyRing.from_json(json.dumps({s.key_id: {"service": s.service, "public_key": public_key_pem(s.public_key)}
                                         for s in signers}))


CRM = signer_for("crm")
ERP = signer_for("erp")
VERIFIER = EventVerifier(ring_of(CRM, ERP))


def rejection(topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> str:
    with pytest.raises(EventRejected) as caught:
        VERIFIER.verify(topic, key, value, headers)
    return caught.value.reason


def test_a_signed_record_verifies_and_names_its_service() -> None:
    headers = [("event_type", b"deal.won"), *CRM.headers(TOPIC, KEY, VALUE)]
    signer = VERIFIER.verify(TOPIC, KEY, VALUE, headers)
    assert (signer.service, signer.key_id) == ("crm", CRM.key_id)
    assert dict(headers)[KEY_ID_HEADER] == CRM.key_id.encode()
    assert len(base64.b64decode(dict(headers)[SIGNATURE_HEADER])) == 64  # an Ed25519 signature
    check_producer(signer, "crm")  # the envelope agrees


def test_a_record_without_a_key_verifies_too() -> None:
    assert VERIFIER.verify(TOPIC, None, VALUE, CRM.headers(TOPIC, None, VALUE)).service == "crm"


def test_an_unsigned_record_is_refused() -> None:
    assert rejection(TOPIC, KEY, VALUE, []) == "unsigned"
    assert rejection(TOPIC, KEY, VALUE, [("event_type", b"deal.won"), (KEY_ID_HEADER, CRM.key_id.encode())]) \
        == "unsigned"


def test_changing_any_signed_part_breaks_the_signature() -> None:
    headers = CRM.headers(TOPIC, KEY, VALUE)
    assert rejection(TOPIC, KEY, VALUE.replace(b"12000.00", b"999999.00"), headers) == "bad_signature"
    assert rejection(TOPIC, b"another-deal", VALUE, headers) == "bad_signature"
    assert rejection(TOPIC, None, VALUE, headers) == "bad_signature"
    assert rejection("crm.account.events", KEY, VALUE, headers) == "bad_signature"  # replayed on another topic
    assert rejection(TOPIC, KEY, None, headers) == "bad_signature"


def test_an_empty_key_and_no_key_are_different_records() -> None:
    assert signed_message(key_id="k", topic=TOPIC, key=b"", value=VALUE) != \
        signed_message(key_id="k", topic=TOPIC, key=None, value=VALUE)
    # Length prefixes: moving bytes from the topic into the key does not make the same message.
    assert signed_message(key_id="k", topic="crm.a", key=b"b", value=b"") != \
        signed_message(key_id="k", topic="crm.", key=b"ab", value=b"")


def test_a_key_outside_the_ring_or_an_impostor_under_a_known_key_id_is_refused() -> None:
    stranger = signer_for("crm")
    assert rejection(TOPIC, KEY, VALUE, stranger.headers(TOPIC, KEY, VALUE)) == "unknown_key"
    impostor = signer_for("crm", key_id=CRM.key_id)  # the CRM's key id, another private key
    assert rejection(TOPIC, KEY, VALUE, impostor.headers(TOPIC, KEY, VALUE)) == "bad_signature"


def test_a_key_signs_only_for_its_own_service() -> None:
    # The ERP's genuine key on a CRM topic: refused before the signature is even looked at.
    forged = [(KEY_ID_HEADER, ERP.key_id.encode()), *CRM.headers(TOPIC, KEY, VALUE)[1:]]
    assert rejection(TOPIC, KEY, VALUE, forged) == "wrong_producer"
    with pytest.raises(EventKeyError):
        ERP.headers(TOPIC, KEY, VALUE)  # and a producer cannot even make one by mistake
    signer = VERIFIER.verify("erp.invoice.events", KEY, VALUE, ERP.headers("erp.invoice.events", KEY, VALUE))
    with pytest.raises(EventRejected) as caught:
        check_producer(signer, "crm")  # an ERP-signed record whose envelope claims to come from the CRM
    assert caught.value.reason == "wrong_producer"


def test_malformed_signature_headers_are_refused() -> None:
    genuine = CRM.headers(TOPIC, KEY, VALUE)
    assert rejection(TOPIC, KEY, VALUE, [genuine[0], (SIGNATURE_HEADER, b"not base64 !")]) == "bad_signature"
    assert rejection(TOPIC, KEY, VALUE, [genuine[0], (SIGNATURE_HEADER, base64.b64encode(b"short"))]) \
        == "bad_signature"
    assert rejection(TOPIC, KEY, VALUE, [*genuine, genuine[1]]) == "bad_signature"  # two signatures
    assert rejection(TOPIC, KEY, VALUE, [genuine[1]]) == "unknown_key"  # a signature naming no key
    assert rejection(TOPIC, KEY, VALUE, [(KEY_ID_HEADER, b"\xff\xfe"), genuine[1]]) == "unknown_key"


def test_rotation_two_keys_of_one_service_both_verify() -> None:
    old, new = signer_for("crm"), signer_for("crm")
    verifier = EventVerifier(ring_of(old, new))
    for signer in (old, new):
        assert verifier.verify(TOPIC, KEY, VALUE, signer.headers(TOPIC, KEY, VALUE)).key_id == signer.key_id
    retired = EventVerifier(ring_of(new))  # the old key retired: what it signed is no longer believed
    with pytest.raises(EventRejected):
        retired.verify(TOPIC, KEY, VALUE, old.headers(TOPIC, KEY, VALUE))


def test_bad_key_configuration_is_a_clear_error() -> None:
    with pytest.raises(EventKeyError, match="not JSON"):
        KeyRing.from_json("{")
    with pytest.raises(EventKeyError, match="non-empty"):
        KeyRing.from_json("{}")
    with pytest.raises(EventKeyError, match="service"):
        KeyRing.from_json(json.dumps({"k": {"public_key": public_key_pem(CRM.public_key)}}))
    with pytest.raises(EventKeyError, match="PEM"):
        KeyRing.from_json(json.dumps({"k": {"service": "crm", "public_key": "nonsense"}}))
    with pytest.raises(EventKeyError, match="private key"):
        EventSigner.from_pem("k", "crm", public_key_pem(CRM.public_key))
    with pytest.raises(EventKeyError, match="key id"):
        EventSigner.from_pem("", "crm", new_private_key_pem())
    assert KeyRing.from_json(ring_of(CRM, ERP).to_json()).services() == {"crm", "erp"}


def test_key_ids_name_the_service_and_follow_the_key() -> None:
    assert CRM.key_id.startswith("crm-") and ERP.key_id.startswith("erp-")
    assert key_id_for("crm", CRM.public_key) == CRM.key_id
    assert signer_for("crm").key_id != CRM.key_id
