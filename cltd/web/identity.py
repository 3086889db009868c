"""The trust as a signer: its did:web identifier and its Ed25519 key (from the data directory)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import request

from cltd.adapters import dataintegrity, proofset
from cltd.adapters.keys import load_signing_key
from cltd.web.state import state


@cache
def _key(path: Path, changed: int) -> Ed25519PrivateKey:
    return load_signing_key(path)


def signing_key() -> Ed25519PrivateKey:
    """The trust's key; a rotated key (a new file) is picked up without a restart."""
    path = state().settings.signing_key_path
    return _key(path, path.stat().st_mtime_ns)


def trust_base() -> str:
    """The trust's origin, as peers reach it: the configured base_url, else this request's."""
    configured = state().settings.base_url
    if configured:
        parts = urlsplit(configured)
        return f"{parts.scheme}://{parts.netloc}"
    return request.host_url.rstrip("/")


def trust_did() -> str:
    """did:web of the trust's address (port encoded as %3A, as did:web says)."""
    configured = state().settings.base_url
    host = urlsplit(configured).netloc if configured else request.host
    return "did:web:" + host.replace(":", "%3A")


def verification_method() -> str:
    return trust_did() + "#" + dataintegrity.public_multikey(signing_key().public_key())


def signed(document: dict[str, Any], at: datetime) -> dict[str, Any]:
    """One eddsa-jcs-2022 proof (consent receipts and other member-facing documents)."""
    return dataintegrity.sign(
        document, signing_key(), verification_method=verification_method(), created=at
    )


def published(document: dict[str, Any], at: datetime) -> dict[str, Any]:
    """What peers read: a proof set in both cryptosuites (see cltd.adapters.proofset)."""
    return proofset.sign_document(
        document,
        signing_key(),
        verification_method=verification_method(),
        created=at,
        origins=[trust_base()],
    )
