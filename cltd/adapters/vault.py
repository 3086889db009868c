"""Envelope encryption of members' records (invariant 6).

Each member has a 256-bit data key; records are sealed with AES-GCM under it, with associated
data that binds the ciphertext to its asset, its record and its contributor, so a ciphertext
moved to another row does not open. Data keys are stored only wrapped (AES-GCM) by the trust's
key-encryption key (KEK), which lives in the data directory, never in the database. Rotating
the KEK re-wraps the data keys; records are not touched. Destroying a member's wrapped data
key makes every copy of their records unreadable (crypto-shredding).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cltd.adapters.keys import write_private_file

NONCE_BYTES = 12
_KEK_NAME = re.compile(r"^(\d{4,})\.key$")


class VaultError(RuntimeError):
    """A ciphertext or a wrapped key does not open: tampered, moved, or its key is gone."""


def record_aad(asset_id: int, record_uid: str, contributor_id: int) -> bytes:
    return f"cltd:record:v1:{asset_id}:{record_uid}:{contributor_id}".encode()


def _key_aad(member_id: int, kek_id: int) -> bytes:
    return f"cltd:data-key:v1:{member_id}:{kek_id}".encode()


@dataclass(frozen=True)
class Sealed:
    nonce: bytes
    ciphertext: bytes


def seal(data_key: bytes, plaintext: bytes, aad: bytes) -> Sealed:
    nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonces; far below the 2^32 per-key bound
    return Sealed(nonce, AESGCM(data_key).encrypt(nonce, plaintext, aad))


def open_sealed(data_key: bytes, sealed: Sealed, aad: bytes) -> bytes:
    try:
        return AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except InvalidTag:
        raise VaultError("a record does not open under its contributor's key") from None


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


class KeyRing:
    """The trust's key-encryption keys: KEYS_DIR/kek/0001.key, 0002.key, … (newest is current)."""

    def __init__(self, keys_dir: Path) -> None:
        self.directory = keys_dir / "kek"
        self._cache: dict[int, bytes] = {}  # lives as long as the ring: one request or job

    def ids(self) -> list[int]:
        if not self.directory.is_dir():
            return []
        found = (_KEK_NAME.match(p.name) for p in self.directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def current_id(self) -> int:
        ids = self.ids()
        return ids[-1] if ids else self.add()

    def add(self, *, at_least: int = 1) -> int:
        """Make a new KEK and return its id (several workers may race: one file wins per id).

        AT_LEAST is one more than the highest id the database still names, so a KEK folder that
        was emptied by mistake never hands out an id that old wrapped keys refer to.
        """
        next_id = max((self.ids() or [0])[-1] + 1, at_least)
        with contextlib.suppress(FileExistsError):
            write_private_file(self.directory / f"{next_id:04d}.key", AESGCM.generate_key(256))
        return next_id

    def _kek(self, kek_id: int) -> bytes:
        if kek_id in self._cache:
            return self._cache[kek_id]
        path = self.directory / f"{kek_id:04d}.key"
        try:
            self._cache[kek_id] = path.read_bytes()
            return self._cache[kek_id]
        except FileNotFoundError:
            raise VaultError(
                f"key-encryption key {kek_id} is missing from {self.directory}"
            ) from None

    def wrap(self, member_id: int, data_key: bytes, kek_id: int | None = None) -> tuple[int, bytes]:
        kek_id = kek_id or self.current_id()
        sealed = seal(self._kek(kek_id), data_key, _key_aad(member_id, kek_id))
        return kek_id, sealed.nonce + sealed.ciphertext

    def unwrap(self, member_id: int, kek_id: int, wrapped: bytes) -> bytes:
        sealed = Sealed(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:])
        return open_sealed(self._kek(kek_id), sealed, _key_aad(member_id, kek_id))
