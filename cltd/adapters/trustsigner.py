"""The trust signing a message outside a web request (the worker): its did:web and key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cltd.adapters import dataintegrity, proofset


def did_of(base: str) -> str:
    """did:web of an origin (the port encoded as %3A, as did:web says)."""
    return "did:web:" + urlsplit(base).netloc.replace(":", "%3A")


@dataclass(frozen=True)
class TrustSigner:
    base: str  # the trust's origin as its peers reach it
    key: Ed25519PrivateKey

    @property
    def did(self) -> str:
        return did_of(self.base)

    def sign(self, document: dict[str, Any], at: datetime) -> dict[str, Any]:
        """A proof set in both cryptosuites, as everything peers read is signed."""
        method = self.did + "#" + dataintegrity.public_multikey(self.key.public_key())
        return proofset.sign_document(
            document, self.key, verification_method=method, created=at, origins=[self.base]
        )
