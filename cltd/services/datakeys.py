"""Members' data keys: created on first contribution, re-wrapped on KEK rotation, destroyed
when a member leaves (crypto-shredding, invariant 6)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from cltd.adapters.vault import KeyRing, VaultError, new_data_key
from cltd.models import MemberKey
from cltd.services import audit
from cltd.services.audit import AuditAction


class DataKeys:
    """Unwrapped data keys for the span of one request or job, never longer."""

    def __init__(self, session: Session, ring: KeyRing) -> None:
        self.session = session
        self.ring = ring
        self._open: dict[int, bytes] = {}
        self.broken: set[int] = set()  # wrapped keys that did not open (tampered, KEK missing)

    def preload(self, member_ids: Iterable[int]) -> None:
        """Unwrap the keys of many members with one query (a page of records, an import)."""
        wanted = set(member_ids) - set(self._open)
        if not wanted:
            return
        for row in self.session.scalars(select(MemberKey).where(MemberKey.member_id.in_(wanted))):
            try:
                self._open[row.member_id] = self.ring.unwrap(
                    row.member_id, row.kek_id, row.wrapped_key
                )
            except VaultError:
                self.broken.add(row.member_id)

    def for_member(self, member_id: int, *, create: bool, at: datetime) -> bytes | None:
        """The member's data key; None if they have none (or, with broken keys, none that opens)."""
        if member_id in self._open:
            return self._open[member_id]
        if member_id in self.broken:
            return None
        row = self.session.get(MemberKey, member_id)
        if row is None:
            if not create:
                return None
            key = new_data_key()
            kek_id, wrapped = self.ring.wrap(member_id, key)
            self.session.add(
                MemberKey(member_id=member_id, kek_id=kek_id, wrapped_key=wrapped, created_at=at)
            )
            self.session.flush()
        else:
            key = self.ring.unwrap(member_id, row.kek_id, row.wrapped_key)
        self._open[member_id] = key
        return key


def rotate_kek(
    session: Session,
    ring: KeyRing,
    *,
    actor: str,
    at: datetime,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Re-wrap every data key under a new KEK; records stay as they are. (new id, keys).

    The table is locked against new keys for the duration (PostgreSQL), so a member's first
    contribution cannot slip a key wrapped by the old KEK in behind the rotation.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE member_keys IN SHARE ROW EXCLUSIVE MODE"))
    highest = session.scalar(select(func.max(MemberKey.kek_id))) or 0
    new_id = ring.add(at_least=highest + 1)
    count = 0
    for row in session.scalars(select(MemberKey).order_by(MemberKey.member_id).with_for_update()):
        key = ring.unwrap(row.member_id, row.kek_id, row.wrapped_key)
        row.kek_id, row.wrapped_key = ring.wrap(row.member_id, key, new_id)
        count += 1
        if progress is not None:
            progress(1)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.KEK_ROTATED,
        subject="trust",
        at=at,
        details={"kek": new_id, "data_keys": count},
    )
    return new_id, count


def count_keys(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(MemberKey)) or 0


def destroy(session: Session, member_id: int) -> None:
    session.execute(delete(MemberKey).where(MemberKey.member_id == member_id))
