"""W3C Data Integrity proofs with the EdDSA cryptosuites (vc-di-eddsa): eddsa-rdfc-2022 and
eddsa-jcs-2022.

Both suites sign the same 64 bytes, hashData = SHA-256(canonical proof config) ‖
SHA-256(canonical document without proof), and differ only in the canonical form: RDFC-1.0
N-Quads of the JSON-LD meaning (rdfc) or the JCS bytes of the JSON (jcs). The proof config is
the proof without proofValue, with the document's @context. The Ed25519 signature over
hashData is the proofValue, multibase base58btc ('z'); keys are Multikeys (multikey.py).
Reproduces the W3C vectors of both suites byte for byte (tests).

rdfc reads the document as JSON-LD: contexts come from the local loader only and a peer's
document is held to the limits of jsonld_limits.py, which raise JsonLdRefused (its `reason`
says why), not ProofError.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cltd.adapters.canonical import canonical_json
from cltd.adapters.jsonld import canonical_nquads
from cltd.adapters.jsonld_limits import DEFAULT_LIMITS, check_document
from cltd.adapters.multikey import (
    ProofError,
    b58decode,
    b58encode,
    private_key_from_multikey,
    public_key_from_did_key,
    public_key_from_multikey,
    public_multikey,
)

__all__ = [
    "CRYPTOSUITE",
    "CRYPTOSUITES",
    "JCS",
    "RDFC",
    "KeyResolver",
    "ProofError",
    "VerifiedProof",
    "b58decode",
    "b58encode",
    "canonical_form",
    "hash_data",
    "private_key_from_multikey",
    "public_key_from_did_key",
    "public_key_from_multikey",
    "public_multikey",
    "sign",
    "verify",
]

RDFC = "eddsa-rdfc-2022"
JCS = "eddsa-jcs-2022"
CRYPTOSUITES = (RDFC, JCS)
CRYPTOSUITE = JCS  # the default of sign(): the fast path, and what older callers expect
PROOF_TYPE = "DataIntegrityProof"

# verificationMethod -> its public key; raises ProofError when it does not know the method
# (public_key_from_did_key is one, for did:key methods).
KeyResolver = Callable[[str], Ed25519PublicKey]


@dataclass(frozen=True)
class VerifiedProof:
    cryptosuite: str
    verification_method: str
    created: str
    proof_purpose: str


def canonical_form(value: Mapping[str, Any], suite: str, *, origins: Iterable[str] = ()) -> bytes:
    """The bytes SUITE hashes for VALUE (a document without proof, or a proof config)."""
    if suite == RDFC:
        return canonical_nquads(dict(value), origins=origins).encode("utf-8")
    if suite == JCS:
        check_document(dict(value), DEFAULT_LIMITS)  # size and depth: JCS recurses too
        try:
            return canonical_json(dict(value))
        except ValueError as error:  # NaN, integers past 2**53: no JCS form
            raise ProofError(
                f"the document has no JCS canonical form: {error}", reason="not-canonicalisable"
            ) from None
    raise ProofError(
        f"unknown cryptosuite {suite!r}; this trust knows {', '.join(CRYPTOSUITES)}",
        reason="unknown-cryptosuite",
    )


def hash_data(
    document: Mapping[str, Any],
    proof_config: Mapping[str, Any],
    suite: str,
    *,
    origins: Iterable[str] = (),
) -> bytes:
    origins = tuple(origins)
    return (
        hashlib.sha256(canonical_form(proof_config, suite, origins=origins)).digest()
        + hashlib.sha256(canonical_form(document, suite, origins=origins)).digest()
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
    suite: str = CRYPTOSUITE,
    origins: Iterable[str] = (),
) -> dict[str, Any]:
    """DOCUMENT with a Data Integrity proof of SUITE by KEY (any earlier proof replaced)."""
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    config: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": suite,
        "created": _timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if "@context" in unsigned:
        config["@context"] = unsigned["@context"]
    signature = key.sign(hash_data(unsigned, config, suite, origins=origins))
    proof = {**config, "proofValue": "z" + b58encode(signature)}
    if suite == RDFC:
        # As the W3C rdfc vector does: the proof sits in the document, under its @context.
        # (The jcs vector keeps the proof's own @context; verify() accepts both.)
        proof.pop("@context", None)
    return {**unsigned, "proof": proof}


def verify(
    signed: Mapping[str, Any],
    key: Ed25519PublicKey | KeyResolver,
    *,
    origins: Iterable[str] = (),
) -> VerifiedProof:
    """Check SIGNED's proof (either suite) with KEY, or with the key a resolver gives for
    the proof's verificationMethod. Raises ProofError if it does not verify, JsonLdRefused
    if an rdfc document cannot be read within the limits; else says who signed, and when."""
    proof = signed.get("proof")
    if isinstance(proof, list):
        raise ProofError(
            "the document carries several proofs; verify them one by one", reason="proof-set"
        )
    if not isinstance(proof, Mapping):
        raise ProofError("the document has no proof", reason="no-proof")
    if proof.get("type") != PROOF_TYPE:
        raise ProofError(
            f"the proof type is {proof.get('type')!r}, not a {PROOF_TYPE}",
            reason="unknown-proof-type",
        )
    suite = proof.get("cryptosuite")
    if suite not in CRYPTOSUITES:
        raise ProofError(
            f"unknown cryptosuite {suite!r}; this trust knows {', '.join(CRYPTOSUITES)}",
            reason="unknown-cryptosuite",
        )
    method, created, purpose = (
        proof.get(name) for name in ("verificationMethod", "created", "proofPurpose")
    )
    if not (isinstance(method, str) and isinstance(created, str) and isinstance(purpose, str)):
        raise ProofError("the proof lacks verificationMethod, created or proofPurpose")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("the proof has no base58btc proofValue")
    signature = b58decode(value[1:])
    if len(signature) != 64:
        raise ProofError("the proofValue is not an Ed25519 signature")
    public_key = key if isinstance(key, Ed25519PublicKey) else key(method)

    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config and config["@context"] != unsigned.get("@context"):
        raise ProofError("the proof's @context differs from the document's")
    if "@context" in unsigned:
        config["@context"] = unsigned["@context"]
    try:
        public_key.verify(signature, hash_data(unsigned, config, suite, origins=origins))
    except InvalidSignature:
        raise ProofError(
            "the signature does not match the document", reason="bad-signature"
        ) from None
    return VerifiedProof(suite, method, created, purpose)
