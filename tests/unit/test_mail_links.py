"""Signed public links: a genuine one opens its page until it expires; anything forged, altered or made for
another purpose is refused as invalid (403), a genuine but expired one as expired (410)."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from throughline_platform.mail.links import LinkExpired, LinkInvalid, LinkSigner

SECRET = "s" * 32
INVOICE = uuid.UUID("7d0f1e4c-5b8a-4a57-9a51-0c1d2e3f4a5b")


def test_a_genuine_link_gives_back_what_it_was_made_for() -> None:
    signer = LinkSigner(SECRET)
    token = signer.sign("invoice-page", INVOICE, timedelta(days=30))
    claims = signer.verify(token, "invoice-page")
    assert claims.subject == INVOICE
    assert claims.purpose == "invoice-page"
    assert timedelta(days=29) < claims.expires_at - datetime.now(UTC) <= timedelta(days=30)
    assert len(token) == 76 and token.replace("-", "").replace("_", "").isalnum()  # fits a URL path as it is


def test_an_expired_link_is_told_apart_from_a_forged_one() -> None:
    signer = LinkSigner(SECRET)
    token = signer.sign("invoice-page", INVOICE, datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(LinkExpired):
        signer.verify(token, "invoice-page", now=datetime(2026, 1, 1, tzinfo=UTC))
    assert signer.verify(token, "invoice-page", now=datetime(2025, 12, 31, 23, 59, tzinfo=UTC)).subject == INVOICE


def test_every_altered_byte_is_refused_as_invalid_never_as_expired() -> None:
    signer = LinkSigner(SECRET)
    token = signer.sign("unsubscribe", INVOICE, timedelta(days=1))
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for index in range(len(raw)):
        altered = bytearray(raw)
        altered[index] ^= 0x01
        forged = base64.urlsafe_b64encode(bytes(altered)).rstrip(b"=").decode()
        with pytest.raises(LinkInvalid):
            signer.verify(forged, "unsubscribe")


def test_an_expiry_pushed_forward_by_hand_is_refused() -> None:
    signer = LinkSigner(SECRET)
    token = signer.sign("quote-page", INVOICE, datetime(2026, 1, 1, tzinfo=UTC))
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[17:25] = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()).to_bytes(8, "big")
    with pytest.raises(LinkInvalid):
        signer.verify(base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode(), "quote-page",
                      now=datetime(2027, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("token", ["", "x", "not a token at all", "%%%%", "A" * 76, "A" * 75, "A" * 200])
def test_garbage_is_invalid(token: str) -> None:
    with pytest.raises(LinkInvalid):
        LinkSigner(SECRET).verify(token, "invoice-page")


def test_a_link_made_for_one_purpose_opens_nothing_else() -> None:
    signer = LinkSigner(SECRET)
    token = signer.sign("unsubscribe", INVOICE, timedelta(days=1))
    with pytest.raises(LinkInvalid):
        signer.verify(token, "invoice-page")


def test_a_link_signed_with_another_secret_is_forged() -> None:
    token = LinkSigner("t" * 32).sign("invoice-page", INVOICE, timedelta(days=1))
    with pytest.raises(LinkInvalid):
        LinkSigner(SECRET).verify(token, "invoice-page")


def test_a_previous_secret_still_verifies_while_the_new_one_signs() -> None:
    old = LinkSigner("o" * 32).sign("invoice-page", INVOICE, timedelta(days=1))
    rotated = LinkSigner(SECRET, previous=["o" * 32])
    assert rotated.verify(old, "invoice-page").subject == INVOICE
    assert LinkSigner(SECRET).verify(rotated.sign("invoice-page", INVOICE, timedelta(days=1)), "invoice-page")


def test_a_short_secret_or_a_naive_expiry_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        LinkSigner("too short")
    with pytest.raises(ValueError, match="time zone"):
        LinkSigner(SECRET).sign("invoice-page", INVOICE, datetime(2030, 1, 1))
