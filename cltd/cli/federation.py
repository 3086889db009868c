"""`cltd federation verify FILE`: check a signed document offline, the way a peer would.

Nothing is fetched: contexts come from schemas/contexts/, the key from the verification
method itself (did:key) or from a DID document given with --did (did:web and others).
Exit 0 when every proof verifies, 1 when one does not, 2 when FILE (or the DID document)
is not something that can be checked at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cltd.adapters import dataintegrity, jsonld
from cltd.cli.errors import CliError
from cltd.cli.text import _
from cltd.services import decisions

EXIT_NOT_VERIFIED = 1


class NotVerified(CliError):
    """The document is signed, but a proof does not hold: one line, exit 1."""

    exit_code = EXIT_NOT_VERIFIED


@click.group("federation")
def federation_group() -> None:
    """Check what trusts publish to each other."""


@federation_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--did",
    "did_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The signer's DID document (did.json), for a proof not signed with a did:key.",
)
def verify(file: Path, did_file: Path | None) -> None:
    """Verify the Data Integrity proof(s) of FILE (eddsa-rdfc-2022 or eddsa-jcs-2022); a
    decision record is recounted too."""
    document = _read_json(file)
    proofs = _proofs(document, file)
    did_document = _read_json(did_file) if did_file else None
    origins = _origins(document, proofs)
    for proof in proofs:
        method = str(proof.get("verificationMethod", ""))
        resolve = _resolver(method, did_document, str(proof.get("proofPurpose", "")))
        try:
            result = dataintegrity.verify({**document, "proof": proof}, resolve, origins=origins)
        except ValueError as error:  # ProofError, JsonLdRefused, or a key that is no key
            reason = getattr(error, "reason", "invalid-proof")
            raise NotVerified(
                _("not verified (%(reason)s): %(detail)s", reason=reason, detail=error)
            ) from None
        click.echo(
            _(
                "verified: %(suite)s, signed by %(method)s at %(created)s",
                suite=result.cryptosuite,
                method=result.verification_method,
                created=result.created,
            )
        )
    _recount(document)


def _recount(document: Any) -> None:
    """A decision record (or a list of them) must be consistent: its stated outcome follows
    from its own counts and rules, or it is refused however well it is signed."""
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "DecisionRecord":
        records = [document]
    elif kind == "DecisionList":
        records = [r for r in document.get("decision", []) if isinstance(r, dict)]
    else:
        return
    for record in records:
        try:
            decisions.check_record(record)
        except decisions.RecountRefused as refused:
            raise NotVerified(_("not verified (recount): %(detail)s", detail=refused)) from None
    click.echo(_("recounted: %(count)s decisions follow from their counts", count=len(records)))


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CliError(
            _("cannot read %(path)s: %(problem)s", path=path, problem=error.strerror or error)
        ) from None
    try:
        return jsonld.parse_document(raw)
    except jsonld.JsonLdRefused as error:
        raise CliError(f"{path}: {error}") from None


def _proofs(document: Any, file: Path) -> list[Mapping[str, Any]]:
    proof = document.get("proof") if isinstance(document, dict) else None
    proofs = proof if isinstance(proof, list) else [proof] if proof is not None else []
    if not proofs or not all(isinstance(p, Mapping) for p in proofs):
        raise CliError(_("%(file)s is not a signed document: it has no proof", file=file))
    return proofs


def _resolver(method: str, did_document: Any, purpose: str) -> Callable[[str], Ed25519PublicKey]:
    if method.startswith("did:key:"):  # the key is written in the identifier itself
        return dataintegrity.public_key_from_did_key
    if did_document is None:
        raise CliError(
            _(
                "the proof is signed by %(method)s; give the signer's DID document with --did",
                method=method or "?",
            )
        )
    return lambda vm: _key_from_did_document(did_document, vm, purpose)


def _key_from_did_document(did_document: Any, method: str, purpose: str) -> Ed25519PublicKey:
    """The Multikey the DID document publishes under METHOD, if it allows it for PURPOSE."""
    if not isinstance(did_document, dict) or did_document.get("id") != method.split("#")[0]:
        raise dataintegrity.ProofError(
            f"the DID document is not the one of {method}", reason="unknown-key"
        )
    allowed = _as_list(did_document.get(purpose))
    if method not in {_absolute_id(entry, did_document["id"]) for entry in allowed}:
        raise dataintegrity.ProofError(
            f"the DID document does not allow {method} for {purpose}", reason="unknown-key"
        )
    candidates = _as_list(did_document.get("verificationMethod")) + allowed
    for candidate in candidates:
        if isinstance(candidate, dict) and _absolute_id(candidate, did_document["id"]) == method:
            return dataintegrity.public_key_from_multikey(candidate.get("publicKeyMultibase"))
    raise dataintegrity.ProofError(
        f"the DID document publishes no key for {method}", reason="unknown-key"
    )


def _absolute_id(entry: Any, did: str) -> str | None:
    """A method's id, given as a string or as the id of an embedded method; DID Core lets
    a DID document write it relative to itself ("#key-1")."""
    identifier = entry.get("id") if isinstance(entry, dict) else entry
    if not isinstance(identifier, str):
        return None
    return did + identifier if identifier.startswith("#") else identifier


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v is not None]


def _origins(document: Mapping[str, Any], proofs: list[Mapping[str, Any]]) -> set[str]:
    """Which origins may serve the trust-relative contexts (/contexts/cltd-v1.jsonld) here.

    A trust serves its vocabulary at its own origin and names itself twice in what it signs:
    the document's own @id (a catalog page's URL) and the did:web of the signing key. Those
    origins, and no other, are read as our local copy; a document cannot pass off some other
    host's URL as our vocabulary. Offline there is no "peer we fetched from" to go by.
    """
    origins = set()
    for identifier in (document.get("@id"), document.get("id")):
        if isinstance(identifier, str):
            with contextlib.suppress(ValueError):  # a urn: or did: id names no origin
                origins.add(jsonld.origin_of(identifier))
    for proof in proofs:
        method = str(proof.get("verificationMethod", ""))
        if method.startswith("did:web:"):
            host = unquote(method.removeprefix("did:web:").split("#")[0].split(":")[0])
            with contextlib.suppress(ValueError):  # not a host: no trust-relative context
                origins.add(jsonld.origin_of(f"https://{host}"))
    return origins


COMMANDS = [federation_group]
