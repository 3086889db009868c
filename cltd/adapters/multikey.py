"""Ed25519 keys as Multikeys (multibase base58btc, multicodec 0xed01 / 0x8026) and did:key.

publicKeyMultibase = 'z' + base58btc(0xed 0x01 ‖ 32-byte key); a private Multikey is
'z' + base58btc(0x80 0x26 ‖ 32-byte seed). A did:key for Ed25519 is 'did:key:' + the public
Multikey, and its one verification method is that DID + '#' + the same Multikey.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_PUB = b"\xed\x01"
_ED25519_PRIV = b"\x80\x26"


class ProofError(ValueError):
    """A document's proof is missing, malformed, or does not verify.

    `reason` is a stable code (e.g. "no-proof", "unknown-cryptosuite", "bad-signature");
    str() is an English sentence.
    """

    def __init__(self, message: str, reason: str = "invalid-proof") -> None:
        super().__init__(message)
        self.reason = reason


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _ALPHABET[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    if len(text) > 200:  # no key or signature is this long; keeps int() arithmetic small
        raise ProofError("base58btc value too long")
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
    if not isinstance(multikey, str) or not multikey.startswith("z"):
        raise ProofError("a Multikey starts with 'z' (base58btc)", reason="unknown-key")
    raw = b58decode(multikey[1:])
    if raw[:2] != _ED25519_PUB or len(raw) != 34:
        raise ProofError("not an Ed25519 Multikey", reason="unknown-key")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def private_key_from_multikey(multikey: str) -> Ed25519PrivateKey:
    raw = b58decode(multikey[1:])
    if raw[:2] != _ED25519_PRIV or len(raw) != 34:
        raise ProofError("not an Ed25519 private Multikey")
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def public_key_from_did_key(verification_method: str) -> Ed25519PublicKey:
    """The key of a did:key verification method ('did:key:z6Mk…#z6Mk…'), from the id itself."""
    did, _, fragment = verification_method.partition("#")
    if not did.startswith("did:key:"):
        raise ProofError(f"{verification_method!r} is not a did:key", reason="unknown-key")
    multikey = did.removeprefix("did:key:")
    if fragment and fragment != multikey:
        raise ProofError(
            f"{verification_method!r} names a key that its DID does not hold", reason="unknown-key"
        )
    return public_key_from_multikey(multikey)
