"""A document signed the way this trust signs what it publishes: a Data Integrity proof set
with one eddsa-jcs-2022 proof (the fast path) and one eddsa-rdfc-2022 proof (the RDF meaning).
Verification checks every proof in the set; a document whose proofs disagree is refused."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cltd.adapters import dataintegrity
from cltd.adapters.dataintegrity import ProofError


def sign_document(
    document: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: datetime,
    origins: Iterable[str] = (),
    suites: Iterable[str] | None = None,
) -> dict[str, Any]:
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    proofs = []
    for suite in suites or SUITES:
        signed = _sign(suite, unsigned, key, verification_method, created, tuple(origins))
        proofs.append(signed["proof"])
    return {**unsigned, "proof": proofs}


def verify_document(
    document: Mapping[str, Any], key: Ed25519PublicKey, *, origins: Iterable[str] = ()
) -> datetime:
    """Every proof verifies with KEY; returns when the document was signed (the latest)."""
    proofs = document.get("proof")
    proof_list = proofs if isinstance(proofs, list) else [proofs] if proofs is not None else []
    if not proof_list or not all(isinstance(p, Mapping) for p in proof_list):
        raise ProofError("the document has no proof")
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    created = []
    for proof in proof_list:
        _verify(proof.get("cryptosuite"), {**unsigned, "proof": proof}, key, tuple(origins))
        created.append(_parse_time(proof.get("created")))
    return max(created)


def _parse_time(value: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ProofError("the proof's creation time is not a time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


SUITES = (dataintegrity.JCS, dataintegrity.RDFC)


def _sign(
    suite: str,
    unsigned: dict[str, Any],
    key: Ed25519PrivateKey,
    method: str,
    created: datetime,
    origins: tuple[str, ...],
) -> dict[str, Any]:
    return dataintegrity.sign(
        unsigned, key, verification_method=method, created=created, suite=suite, origins=origins
    )


def _verify(
    suite: object, signed: dict[str, Any], key: Ed25519PublicKey, origins: tuple[str, ...]
) -> None:
    if suite not in SUITES:
        raise ProofError(f"unknown cryptosuite {suite!r}")
    dataintegrity.verify(signed, key, origins=origins)
