"""Access-token verification remembers verified tokens, and never lets that memory change an answer: an expired
token is refused, a token that differs in one character is checked in full, the memory is bounded."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from throughline_platform.auth import ALGORITHM, AUDIENCE, ISSUER, TokenVerifier
from throughline_platform.problems import Unauthorized

KEY = Ed25519PrivateKey.generate()
PUBLIC_PEM = KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def token(sub: str = "u1", role: str = "sales", expires_in: float = 300) -> str:
    claims = {"sub": sub, "role": role, "email": f"{sub}@example.com", "typ": "access", "iss": ISSUER,
              "aud": AUDIENCE, "exp": int(time.time() + expires_in)}
    return jwt.encode(claims, KEY, algorithm=ALGORITHM)


def test_a_verified_token_is_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier(PUBLIC_PEM)
    raw = token()
    first = verifier.verify(raw)
    assert (first.user_id, first.role, first.email) == ("u1", "sales", "u1@example.com")

    def no_second_check(*_: object, **__: object) -> None:
        raise AssertionError("the signature was checked again")

    monkeypatch.setattr(jwt, "decode", no_second_check)
    assert verifier.verify(raw) == first


def test_a_remembered_token_still_expires() -> None:
    verifier = TokenVerifier(PUBLIC_PEM)
    raw = token(expires_in=1)
    assert verifier.verify(raw).user_id == "u1"
    expires = jwt.decode(raw, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(Unauthorized) as refused:
        verifier.verify(raw)
    assert refused.value.type_slug == "token-expired"


def test_a_tampered_copy_of_a_remembered_token_is_refused() -> None:
    verifier = TokenVerifier(PUBLIC_PEM)
    raw = token()
    verifier.verify(raw)
    header, payload, signature = raw.split(".")
    forged_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"sales"', b'"admin"')).decode()
    for forged in (f"{header}.{forged_payload}.{signature}", raw[:-2] + ("AA" if raw[-2:] != "AA" else "BB")):
        with pytest.raises(Unauthorized) as refused:
            verifier.verify(forged)
        assert refused.value.type_slug == "token-invalid"


def test_the_memory_is_bounded_and_forgetting_only_costs_a_check() -> None:
    verifier = TokenVerifier(PUBLIC_PEM, cache_size=2)
    tokens = [token(sub=f"u{n}") for n in range(5)]
    for raw in tokens:
        verifier.verify(raw)
    assert len(verifier._verified) == 2
    assert [verifier.verify(raw).user_id for raw in tokens] == [f"u{n}" for n in range(5)]
