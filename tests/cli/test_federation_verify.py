"""`cltd federation verify FILE [--did DID_DOCUMENT]`: check a signed document offline.

Exit 0 with one "verified: ..." line per proof; exit 1 with one line naming why a proof does
not hold; exit 2 with one line when FILE is not a signed document at all. No trust, data
directory or network is needed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cltd.adapters import dataintegrity, jsonld
from cltd.cli import cli
from tests.cli.support import Run, cltd

VECTORS = Path(__file__).resolve().parent.parent / "fixtures" / "di-eddsa"
DCAT = json.loads((VECTORS / "dcat-catalog-5-bnodes.json").read_text())
DID_KEY = (
    "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
)
DI = "https://w3id.org/security/data-integrity/v2"
PEER = "did:web:peer.example%3A8443"
RELATIVE = "/contexts/test-v1.jsonld"


def write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def verify_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Run:
    return cltd(capsys, "federation", "verify", *args)


@pytest.mark.parametrize(
    ("file", "suite", "created"),
    [
        ("signedDataInt.json", "eddsa-rdfc-2022", "2023-02-24T23:36:38Z"),
        ("signedJCS.json", "eddsa-jcs-2022", "2023-02-24T23:36:38Z"),
    ],
)
def test_the_w3c_vectors_verify(
    capsys: pytest.CaptureFixture[str], file: str, suite: str, created: str
) -> None:
    run = verify_cli(capsys, VECTORS / file)
    assert run.code == 0, run.err
    assert run.out == f"verified: {suite}, signed by {DID_KEY} at {created}\n"
    assert run.err == ""


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_the_derived_catalog_verifies_in_both_suites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suite: str
) -> None:
    path = write(tmp_path, "catalog.json", DCAT["suites"][suite]["signedDocument"])
    run = verify_cli(capsys, path)
    assert run.code == 0, run.err
    assert run.out == f"verified: {suite}, signed by {DID_KEY} at 2025-01-01T00:00:00Z\n"


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_a_tampered_document_exits_1_naming_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suite: str
) -> None:
    forged = json.loads(json.dumps(DCAT["suites"][suite]["signedDocument"]))
    forged["dcat:dataset"][0]["dct:identifier"] = "ds-forged"
    run = verify_cli(capsys, write(tmp_path, "forged.json", forged))
    line = run.assert_one_error_line(1)
    assert "bad-signature" in line and "does not match" in line
    assert run.out == ""


@pytest.mark.parametrize(
    "content",
    [
        "this is not JSON",
        "[1, 2, 3]",
        json.dumps({"@context": DI, "@id": "https://trust.example/catalog"}),  # no proof
        json.dumps({"proof": "z123"}),
    ],
)
def test_what_is_not_a_signed_document_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    line = verify_cli(capsys, write(tmp_path, "garbage.json", content)).assert_one_error_line(2)
    assert "garbage.json" in line


def test_an_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = verify_cli(capsys, tmp_path / "missing.json").assert_one_error_line(2)
    assert "missing.json" in line


# --- did:web signers: the key comes from the DID document given with --did ------------------


@pytest.fixture
def trust_relative(monkeypatch: pytest.MonkeyPatch) -> str:
    """A trust-relative context in the index (standing in for the trust's own vocabulary)."""
    index = {**jsonld.context_index(), RELATIVE: "multikey-v1.jsonld"}
    monkeypatch.setattr(jsonld, "context_index", lambda: index)
    return RELATIVE


@pytest.fixture
def peer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def method_of(key: Ed25519PrivateKey) -> str:
    return f"{PEER}#{dataintegrity.public_multikey(key.public_key())}"


def did_document(key: Ed25519PrivateKey, *, allowed: bool = True) -> dict[str, Any]:
    method = method_of(key)
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": PEER,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": PEER,
                "publicKeyMultibase": dataintegrity.public_multikey(key.public_key()),
            }
        ],
        "assertionMethod": [method] if allowed else [],
    }


def peer_document(context_origin: str) -> dict[str, Any]:
    """A document of the peer's that uses the trust-relative context at CONTEXT_ORIGIN."""
    return {
        "@context": [context_origin + RELATIVE, DI],
        "@id": "https://peer.example:8443/keys/1",
        "@type": "Multikey",
        "controller": {"@id": PEER},
    }


def signed_by(key: Ed25519PrivateKey, document: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return dataintegrity.sign(
        document,
        key,
        verification_method=method_of(key),
        created=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        **kwargs,
    )


def test_a_proof_set_by_a_did_web_signer_verifies_with_its_did_document(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    peer_key: Ed25519PrivateKey,
    trust_relative: str,
) -> None:
    unsigned = peer_document("https://peer.example:8443")
    origins = ["https://peer.example:8443"]
    proofs = [
        signed_by(peer_key, unsigned, suite=suite, origins=origins)["proof"]
        for suite in ("eddsa-jcs-2022", "eddsa-rdfc-2022")
    ]
    path = write(tmp_path, "signed.json", {**unsigned, "proof": proofs})
    did = write(tmp_path, "did.json", did_document(peer_key))
    run = verify_cli(capsys, path, "--did", did)
    assert run.code == 0, run.err
    method = method_of(peer_key)
    assert run.out.splitlines() == [
        f"verified: eddsa-jcs-2022, signed by {method} at 2025-03-01T09:30:00Z",
        f"verified: eddsa-rdfc-2022, signed by {method} at 2025-03-01T09:30:00Z",
    ]


def test_a_trust_relative_context_counts_only_on_the_signers_own_origin(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    peer_key: Ed25519PrivateKey,
    trust_relative: str,
) -> None:
    """Signed over a context at another host: the document may not pass that off as ours."""
    unsigned = peer_document("https://elsewhere.example")
    signed = signed_by(
        peer_key, unsigned, suite="eddsa-rdfc-2022", origins=["https://elsewhere.example"]
    )
    did = write(tmp_path, "did.json", did_document(peer_key))
    run = verify_cli(capsys, write(tmp_path, "signed.json", signed), "--did", did)
    line = run.assert_one_error_line(1)
    assert "remote-context" in line and "https://elsewhere.example" + RELATIVE in line


def test_a_did_web_signer_without_did_document_exits_2_asking_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], peer_key: Ed25519PrivateKey
) -> None:
    signed = signed_by(peer_key, DCAT["unsignedDocument"], suite="eddsa-rdfc-2022")
    line = verify_cli(capsys, write(tmp_path, "signed.json", signed)).assert_one_error_line(2)
    assert "--did" in line and PEER in line


@pytest.mark.parametrize(
    ("did_document_of", "expected"),
    [
        (lambda key: {**did_document(key), "verificationMethod": []}, "publishes no key"),
        (lambda key: did_document(key, allowed=False), "does not allow"),
        (lambda key: {**did_document(key), "id": "did:web:someone.example"}, "not the one"),
    ],
)
def test_a_did_document_that_does_not_vouch_for_the_key_exits_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    peer_key: Ed25519PrivateKey,
    did_document_of: Any,
    expected: str,
) -> None:
    signed = signed_by(peer_key, DCAT["unsignedDocument"], suite="eddsa-jcs-2022")
    did = write(tmp_path, "did.json", did_document_of(peer_key))
    run = verify_cli(capsys, write(tmp_path, "signed.json", signed), "--did", did)
    line = run.assert_one_error_line(1)
    assert "unknown-key" in line and expected in line


def test_another_key_under_the_same_method_id_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], peer_key: Ed25519PrivateKey
) -> None:
    signed = signed_by(peer_key, DCAT["unsignedDocument"], suite="eddsa-rdfc-2022")
    document = did_document(peer_key)
    other = Ed25519PrivateKey.generate().public_key()
    document["verificationMethod"][0]["publicKeyMultibase"] = dataintegrity.public_multikey(other)
    did = write(tmp_path, "did.json", document)
    run = verify_cli(capsys, write(tmp_path, "signed.json", signed), "--did", did)
    assert "bad-signature" in run.assert_one_error_line(1)


def test_a_did_document_may_name_its_methods_relative_to_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], peer_key: Ed25519PrivateKey
) -> None:
    signed = signed_by(peer_key, DCAT["unsignedDocument"], suite="eddsa-rdfc-2022")
    document = did_document(peer_key)
    relative = "#" + method_of(peer_key).split("#")[1]
    document["verificationMethod"][0]["id"] = relative
    document["assertionMethod"] = [relative, ["not", "an", "id"], 7]
    did = write(tmp_path, "did.json", document)
    run = verify_cli(capsys, write(tmp_path, "signed.json", signed), "--did", did)
    assert run.code == 0, run.err


def test_a_did_document_that_is_not_json_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], peer_key: Ed25519PrivateKey
) -> None:
    signed = signed_by(peer_key, DCAT["unsignedDocument"])
    did = write(tmp_path, "did.json", "<html>not found</html>")
    run = verify_cli(capsys, write(tmp_path, "signed.json", signed), "--did", did)
    assert "did.json" in run.assert_one_error_line(2)


def test_the_command_through_click(tmp_path: Path) -> None:
    """The same through the click group, as the console script's parser sees it."""
    result = CliRunner().invoke(cli, ["federation", "verify", str(VECTORS / "signedDataInt.json")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("verified: eddsa-rdfc-2022, signed by did:key:")
    garbage = write(tmp_path, "garbage.json", "{")
    assert CliRunner().invoke(cli, ["federation", "verify", str(garbage)]).exit_code == 2
