"""Both EdDSA cryptosuites reproduce the W3C vectors (and a catalog with blank nodes) byte for
byte, verify them, and refuse forgeries, other keys and suites they do not know."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cltd.adapters.canonical import canonical_json
from cltd.adapters.dataintegrity import (
    JCS,
    ProofError,
    b58decode,
    b58encode,
    canonical_form,
    hash_data,
    private_key_from_multikey,
    public_key_from_did_key,
    public_key_from_multikey,
    public_multikey,
    sign,
    verify,
)
from cltd.adapters.dataintegrity import RDFC as RDFC_SUITE
from cltd.adapters.jsonld import JsonLdRefused

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
    with pytest.raises(ProofError):
        verify(SIGNED, Ed25519PrivateKey.generate().public_key())


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0\x01", bytes(range(40)), b"\xff" * 33])
def test_base58_round_trips(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


# --- eddsa-rdfc-2022, and both suites on a catalog with blank nodes --------------------------

RDFC = json.loads((VECTORS / "eddsa-rdfc-2022.vector.json").read_text())
SIGNED_RDFC = json.loads((VECTORS / "signedDataInt.json").read_text())
DCAT = json.loads((VECTORS / "dcat-catalog-5-bnodes.json").read_text())
PUBLIC = public_key_from_multikey(KEYS["publicKeyMultibase"])


def _created(proof: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(proof["created"].replace("Z", "+00:00"))


def test_the_w3c_rdfc_vector_is_reproduced_byte_for_byte() -> None:
    key = private_key_from_multikey(RDFC["keyPair"]["privateKeyMultibase"])
    options = RDFC["proofOptions"]
    assert options == json.loads((VECTORS / "proofConfigDataInt.json").read_text())
    document = canonical_form(RDFC["unsignedDocument"], RDFC_SUITE)
    config = canonical_form(options, RDFC_SUITE)
    assert document.decode() == RDFC["canonicalDocument"]
    assert config.decode() == RDFC["canonicalProofConfig"]
    assert hashlib.sha256(document).hexdigest() == RDFC["documentHashHex"]
    assert hashlib.sha256(config).hexdigest() == RDFC["proofConfigHashHex"]
    combined = hash_data(RDFC["unsignedDocument"], options, RDFC_SUITE)
    assert combined.hex() == RDFC["combinedHashHex"]
    assert key.sign(combined).hex() == RDFC["signatureHex"]  # Ed25519 is deterministic

    signed = sign(
        UNSIGNED,
        key,
        verification_method=options["verificationMethod"],
        created=_created(options),
        suite=RDFC_SUITE,
    )
    assert signed["proof"]["proofValue"] == RDFC["proofValue"]
    assert signed == RDFC["signedDocument"] == SIGNED_RDFC
    assert canonical_json(signed) == canonical_json(SIGNED_RDFC)


@pytest.mark.parametrize("suite", [RDFC_SUITE, JCS])
def test_the_derived_dcat_catalog_is_reproduced_in_both_suites(suite: str) -> None:
    expected = DCAT["suites"][suite]
    unsigned, options = DCAT["unsignedDocument"], expected["proofOptions"]
    config = {**options, "@context": unsigned["@context"]}
    assert canonical_form(unsigned, suite).decode() == expected["canonicalDocument"]
    assert canonical_form(config, suite).decode() == expected["canonicalProofConfig"]
    assert hash_data(unsigned, config, suite).hex() == expected["combinedHashHex"]

    key = private_key_from_multikey(KEYS["privateKeyMultibase"])
    signed = sign(
        unsigned,
        key,
        verification_method=options["verificationMethod"],
        created=_created(options),
        suite=suite,
    )
    assert signed["proof"]["proofValue"] == expected["proofValue"]
    assert signed["proof"]["proofValue"] == "z" + b58encode(bytes.fromhex(expected["signatureHex"]))
    # The fixture's jcs proof leaves out the @context that our jcs proofs (like the W3C
    # vector's) repeat; the signed bytes are the same either way.
    proof = {k: v for k, v in signed["proof"].items() if k != "@context"}
    assert {**signed, "proof": proof} == expected["signedDocument"]
    if suite == RDFC_SUITE:
        assert signed == expected["signedDocument"]


def test_urgna2012_would_have_produced_the_wrong_canonical_document() -> None:
    """pyld's default algorithm: right on the W3C vector by luck, wrong on blank nodes."""
    from pyld import jsonld as pyld_jsonld

    from cltd.adapters.jsonld import LocalContextLoader

    def legacy(document: dict[str, Any]) -> str:
        options = {"format": "application/n-quads", "documentLoader": LocalContextLoader()}
        return str(pyld_jsonld.normalize(document, {**options, "algorithm": "URGNA2012"}))

    expected = DCAT["suites"][RDFC_SUITE]
    wrong = expected["canonicalDocumentIfURGNA2012_WRONG"]
    assert legacy(DCAT["unsignedDocument"]) == wrong != expected["canonicalDocument"]
    assert canonical_form(DCAT["unsignedDocument"], RDFC_SUITE).decode() != wrong
    assert legacy(RDFC["unsignedDocument"]) == RDFC["canonicalDocument"]


SIGNED_VECTORS = {
    "w3c-rdfc": SIGNED_RDFC,
    "w3c-jcs": SIGNED,
    "dcat-rdfc": DCAT["suites"][RDFC_SUITE]["signedDocument"],
    "dcat-jcs": DCAT["suites"][JCS]["signedDocument"],
}


@pytest.mark.parametrize("name", sorted(SIGNED_VECTORS))
def test_signed_vectors_verify_by_key_and_by_did_key(name: str) -> None:
    signed = SIGNED_VECTORS[name]
    result = verify(signed, PUBLIC)
    assert result == verify(signed, public_key_from_did_key)
    assert result.cryptosuite == signed["proof"]["cryptosuite"]
    assert result.verification_method == signed["proof"]["verificationMethod"]
    assert result.created == signed["proof"]["created"]
    assert result.proof_purpose == "assertionMethod"


@pytest.mark.parametrize("name", sorted(SIGNED_VECTORS))
def test_a_tampered_vector_or_another_key_fails(name: str) -> None:
    tampered = json.loads(json.dumps(SIGNED_VECTORS[name]))
    tampered["proof"]["created"] = "2024-01-01T00:00:00Z"
    with pytest.raises(ProofError) as caught:
        verify(tampered, PUBLIC)
    assert caught.value.reason == "bad-signature"
    with pytest.raises(ProofError):
        verify(SIGNED_VECTORS[name], Ed25519PrivateKey.generate().public_key())


def test_rdfc_signs_the_meaning_not_the_bytes() -> None:
    reordered = dict(reversed(list(SIGNED_RDFC.items())))
    reordered["type"] = list(reversed(SIGNED_RDFC["type"]))
    verify(reordered, PUBLIC)
    forged = json.loads(json.dumps(DCAT["suites"][RDFC_SUITE]["signedDocument"]))
    forged["dcat:dataset"][2]["dcat:distribution"]["dct:format"] = "XLSX"
    with pytest.raises(ProofError):
        verify(forged, PUBLIC)


def test_a_key_outside_the_context_cannot_ride_along_unsigned() -> None:
    """JSON-LD drops undefined keys, so rdfc would not sign them: refuse, don't ignore."""
    smuggled = {**DCAT["suites"][RDFC_SUITE]["signedDocument"], "discount": "100%"}
    with pytest.raises(JsonLdRefused) as caught:
        verify(smuggled, PUBLIC)
    assert caught.value.reason == "undefined-term"
    # Credentials v2 maps unknown keys with @vocab: there the key is signed, so it breaks.
    with pytest.raises(ProofError):
        verify({**SIGNED_RDFC, "discount": "100%"}, PUBLIC)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"cryptosuite": "ecdsa-rdfc-2019"}, "unknown-cryptosuite"),
        ({"cryptosuite": None}, "unknown-cryptosuite"),
        ({"type": "Ed25519Signature2020"}, "unknown-proof-type"),
    ],
)
def test_an_unknown_suite_or_proof_type_is_named(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ProofError) as caught:
        verify({**SIGNED_RDFC, "proof": {**SIGNED_RDFC["proof"], **change}}, PUBLIC)
    assert caught.value.reason == reason
    assert str(next(iter(change.values()))) in str(caught.value)


def test_signing_with_an_unknown_suite_is_refused() -> None:
    key = private_key_from_multikey(KEYS["privateKeyMultibase"])
    with pytest.raises(ProofError):
        sign(UNSIGNED, key, verification_method="did:key:x", created=datetime.now(UTC), suite="x")


def test_a_proof_set_is_not_taken_for_one_proof() -> None:
    both = {**SIGNED_RDFC, "proof": [SIGNED_RDFC["proof"], SIGNED["proof"]]}
    with pytest.raises(ProofError) as caught:
        verify(both, PUBLIC)
    assert caught.value.reason == "proof-set"


def test_a_resolver_is_asked_for_the_proofs_own_method() -> None:
    asked: list[str] = []

    def resolver(method: str) -> Ed25519PublicKey:
        asked.append(method)
        return PUBLIC

    verify(SIGNED_RDFC, resolver)
    assert asked == [SIGNED_RDFC["proof"]["verificationMethod"]]


@pytest.mark.parametrize(
    "method",
    [
        "did:web:trust.example#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkOther",
        "did:key:zNotBase58!",
    ],
)
def test_did_key_resolution_refuses_what_is_not_its_own_key(method: str) -> None:
    with pytest.raises(ProofError):
        public_key_from_did_key(method)


def test_a_freshly_signed_rdfc_document_round_trips() -> None:
    key = Ed25519PrivateKey.generate()
    method = "did:web:trust.example#" + public_multikey(key.public_key())
    signed = sign(
        DCAT["unsignedDocument"],
        key,
        verification_method=method,
        created=datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
        suite=RDFC_SUITE,
    )
    assert "@context" not in signed["proof"]
    assert verify(signed, key.public_key()).created == "2025-06-01T12:00:00Z"


def test_a_jcs_document_without_canonical_form_or_too_deep_is_refused() -> None:
    with pytest.raises(ProofError) as caught:
        canonical_form({"a": float("nan")}, JCS)
    assert caught.value.reason == "not-canonicalisable"
    with pytest.raises(ProofError):
        verify({**SIGNED, "big": 2**60}, PUBLIC)
    deep: dict[str, Any] = {}
    for _ in range(500):
        deep = {"a": deep}
    with pytest.raises(JsonLdRefused) as refused:
        verify({**SIGNED, "deep": deep}, PUBLIC)
    assert refused.value.reason == "too-deep"
