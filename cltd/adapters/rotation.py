"""Rotating the trust's signing key without breaking the trust of its peers.

The new key replaces the old one on disk (written beside it, then moved over it, so a crash
leaves one whole key), and a statement naming both keys, signed by the OLD key, is appended to
keys/rotations.json. A peer that pinned the old key accepts the new one only by verifying such
a statement with the key it pinned: never silently.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cltd.adapters import dataintegrity
from cltd.adapters.keys import load_signing_key, write_private_file

ROTATIONS_FILE = "keys/rotations.json"


def rotations(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / ROTATIONS_FILE
    if not path.is_file():
        return []
    found = json.loads(path.read_text(encoding="utf-8"))
    return found if isinstance(found, list) else []


def rotate(
    data_dir: Path,
    private_path: Path,
    public_path: Path,
    *,
    statement: dict[str, Any],
    did: str,
    at: datetime,
) -> dict[str, Any]:
    """Make a new key, sign STATEMENT (filled with both keys) with the old one, keep both."""
    old = load_signing_key(private_path)
    new = Ed25519PrivateKey.generate()
    old_multikey = dataintegrity.public_multikey(old.public_key())
    new_multikey = dataintegrity.public_multikey(new.public_key())
    body = {**statement, "previousKey": old_multikey, "nextKey": new_multikey}
    signed = dataintegrity.sign(body, old, verification_method=f"{did}#{old_multikey}", created=at)
    history = [*rotations(data_dir), signed]
    _replace(data_dir / ROTATIONS_FILE, json.dumps(history, indent=2).encode(), private=False)
    _replace(
        private_path,
        new.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        private=True,
    )
    _replace(
        public_path,
        new.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        private=False,
    )
    return signed


def _replace(path: Path, data: bytes, *, private: bool) -> None:
    staging = path.with_name(path.name + ".new")
    staging.unlink(missing_ok=True)
    if private:
        write_private_file(staging, data)
    else:
        staging.write_bytes(data)
    with staging.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staging, path)
