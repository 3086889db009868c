"""eddsa-jcs-2022 reproduces the W3C vector byte for byte, verifies it, and refuses forgeries."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from cltd.adapters.canonical import canonical_json
from cltd.adapters.dataintegrity import (
    ProofError,
    b58decode,
    b58encode,
    private_key_from_multikey,
    public_key_from_multikey,
    public_multikey,
    sign,
    verify,
)

VECTORS = Path(__file__).resolve().parent.parent / "fixtures" / "di-eddsa"
KEYS = json.loads((VECTORS / "keyPair.json").read_text())
UNSIGNED = json.loads((VECTORS / "unsigned.json").read_text())
SIGNED = json.loads((VECTORS / "signedJCS.json").read_text())
VECTOR = json.loads((VECTORS / "eddsa-jcs-2022.vector.json").read_text())


def test_the_w3c_vector_is_reproduced_byte_for_byte() -> None:
    key = private_key_from_multikey(KEYS["privateKeyMultibase"])
    assert public_multikey(key.public_key()) == KEYS["publicKeyMultibase"]
    proof = SIGNED["proof"]
    signed = sign(
        UNSIGNED,
        key,
        verification_method=proof["verificationMethod"],
        created=datetime.fromisoformat(proof["created"].replace("Z", "+00:00")),
    )
    assert signed["proof"]["proofValue"] == VECTOR["proofValue"]
    assert canonical_json(signed) == canonical_json(SIGNED)


def test_the_w3c_signed_document_verifies() -> None:
    verify(SIGNED, public_key_from_multikey(KEYS["publicKeyMultibase"]))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.update(name="Forged Credential"),
        lambda d: d["credentialSubject"].update(alumniOf="Another School"),
        lambda d: d["proof"].update(created="2024-01-01T00:00:00Z"),
        lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"][:-2] + "zz"),
        lambda d: d["proof"].update(cryptosuite="eddsa-rdfc-2022"),
        lambda d: d.pop("proof"),
        lambda d: d["proof"].update(proofValue="not-multibase"),
    ],
)
def test_any_change_breaks_the_proof(tamper) -> None:  # type: ignore[no-untyped-def]
    forged = json.loads(json.dumps(SIGNED))
    tamper(forged)
    with pytest.raises(ProofError):
        verify(forged, public_key_from_multikey(KEYS["publicKeyMultibase"]))


def test_another_key_does_not_verify() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with pytest.raises(ProofError):
        verify(SIGNED, Ed25519PrivateKey.generate().public_key())


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0\x01", bytes(range(40)), b"\xff" * 33])
def test_base58_round_trips(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data
