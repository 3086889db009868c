"""W3C Data Integrity proofs with the eddsa-jcs-2022 cryptosuite (vc-di-eddsa §3.3).

hashData = SHA-256(JCS(proof config)) ‖ SHA-256(JCS(document without proof)); the Ed25519
signature over those 64 bytes is the proofValue, multibase base58btc ('z'). Keys are written
as Multikey (0xed01 + public key). Reproduces the W3C vectors byte for byte (tests).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cltd.adapters.canonical import canonical_json

CRYPTOSUITE = "eddsa-jcs-2022"
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_PUB = b"\xed\x01"
_ED25519_PRIV = b"\x80\x26"


class ProofError(ValueError):
    """A document's proof is missing, malformed, or does not verify."""


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _ALPHABET[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _ALPHABET.find(char)
        if index < 0:
            raise ProofError(f"not base58btc: {char!r}")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def public_multikey(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + b58encode(_ED25519_PUB + raw)


def public_key_from_multikey(multikey: str) -> Ed25519PublicKey:
    if not multikey.startswith("z"):
        raise ProofError("a Multikey starts with 'z' (base58btc)")
    raw = b58decode(multikey[1:])
    if raw[:2] != _ED25519_PUB or len(raw) != 34:
        raise ProofError("not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def private_key_from_multikey(multikey: str) -> Ed25519PrivateKey:
    raw = b58decode(multikey[1:])
    if raw[:2] != _ED25519_PRIV or len(raw) != 34:
        raise ProofError("not an Ed25519 private Multikey")
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def _hash_data(document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    return (
        hashlib.sha256(canonical_json(dict(proof_config))).digest()
        + hashlib.sha256(canonical_json(dict(document))).digest()
    )


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(
    document: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: datetime,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    config: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": _timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if "@context" in unsigned:
        config["@context"] = unsigned["@context"]
    signature = key.sign(_hash_data(unsigned, config))
    return {**unsigned, "proof": {**config, "proofValue": "z" + b58encode(signature)}}


def verify(signed: Mapping[str, Any], key: Ed25519PublicKey) -> None:
    """Raise ProofError unless SIGNED carries a valid eddsa-jcs-2022 proof by KEY."""
    proof = signed.get("proof")
    if not isinstance(proof, Mapping):
        raise ProofError("the document has no proof")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"the proof is not a {CRYPTOSUITE} Data Integrity proof")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("the proof has no base58btc proofValue")
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    if "@context" in config and config["@context"] != unsigned.get("@context"):
        raise ProofError("the proof's @context differs from the document's")
    try:
        key.verify(b58decode(value[1:]), _hash_data(unsigned, config))
    except InvalidSignature:
        raise ProofError("the signature does not match the document") from None
