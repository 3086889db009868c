"""Invariant 6 and reliability R26: records are encrypted at rest, bound to their row, and the
key-encryption key rotates without touching them. Both engines.

* No plaintext, no KEK and no unwrapped data key anywhere in the stored database: the SQLite
  file and its WAL byte for byte, or `pg_dump` of the PostgreSQL database.
* A flipped bit, in any byte of nonce or ciphertext, never opens; reading such a row refuses
  or withholds it and never answers with plaintext (nor with a 500 through the API).
* A ciphertext moved to another row (another asset, another contributor, another record of the
  same contributor) does not open: the associated data binds it. Nor does a wrapped data key
  moved to another member.
* `cltd keys rotate` re-wraps every data key under a new KEK, leaves every record row as it was
  byte for byte, and records read back the same, even after the old KEK file is deleted, and
  even when a member's first key was being made while the rotation ran.
"""

from __future__ import annotations

import random
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.adapters.vault import KeyRing, Sealed, VaultError, open_sealed, record_aad
from cltd.cli import context as cli_context
from cltd.models import Asset, AuditEntry, Member, MemberKey, OAuthClient, Record
from cltd.rules.bylaws import Bylaws
from cltd.services import consents, records
from cltd.services.audit import verify_chain
from cltd.services.datakeys import DataKeys, rotate_kek
from cltd.services.errors import ServiceError
from tests.cli.support import cltd
from tests.consent.conftest import (
    T0,
    Committed,
    new_asset,
    new_consumer,
    new_grant,
    new_member,
)
from tests.support import mint

CANARY = "CANARY-7f3a-" + uuid.uuid4().hex + "-Mill-Lane"
PURPOSE = "improve-public-services"


# --- a little world of two assets, two contributors and a consumer ----------------------------


class Trust:
    def __init__(
        self, session: Session, bylaws: Bylaws, ring: KeyRing, *, at: datetime = T0
    ) -> None:
        self.session, self.bylaws, self.ring, self.at = session, bylaws, ring, at
        self.assets = [new_asset(session, bylaws, at=at), new_asset(session, bylaws, at=at)]
        self.members = [new_member(session, bylaws, name=n, at=at) for n in ("Ana", "Ben")]
        self.consumer = new_consumer(session)
        for asset in self.assets:
            new_grant(session, self.consumer, asset, PURPOSE, starts_at=at)
        for member in self.members:
            consents.grant(
                session,
                bylaws.taxonomy,
                member=member,
                asset_id=None,
                purpose="public-benefit",
                at=at,
            )
        self.streets: dict[str, str] = {}

    def contribute(self, asset: int, member: int, street: str) -> Record:
        record = records.contribute(
            self.session,
            self.ring,
            asset=self.assets[asset],
            member=self.members[member],
            values={"street": street, "damp": True, "rooms": 4},
            at=self.at,
        )
        self.streets[record.uid] = street
        return record

    def read(self, asset: int, ring: KeyRing | None = None) -> list[dict[str, Any]]:
        return records.read_page(
            self.session,
            ring or self.ring,
            self.bylaws.taxonomy,
            client=self.session.get_one(OAuthClient, self.consumer.id),
            asset=self.session.get_one(Asset, self.assets[asset].id),
            purpose=PURPOSE,
            after=0,
            limit=100,
            at=self.at + timedelta(minutes=1),
        ).records


def _refused_or_withheld(read: Callable[[], list[dict[str, Any]]], uid: str, *secrets: str) -> str:
    """The read raises a vault or service error, or serves a page without the bad row and
    without any of SECRETS. Never plaintext. Says which it was."""
    try:
        page = read()
    except (VaultError, ServiceError) as error:
        return type(error).__name__
    assert uid not in {r["id"] for r in page}, "a row that does not open was served"
    text = repr(page)
    for secret in secrets:
        assert secret not in text
    return "withheld"


@pytest.fixture
def trust(db_session: Session, bylaws: Bylaws, ring: KeyRing) -> Trust:
    return Trust(db_session, bylaws, ring)


# --- nothing readable at rest ------------------------------------------------------------------


def _stored_bytes(committed: Committed) -> bytes:
    """What the database keeps on disk: the SQLite file and its WAL, or a pg_dump."""
    if committed.dialect == "sqlite":
        path = Path(committed.engine.url.database or "")
        parts = [path, path.with_name(path.name + "-wal")]
        stored = b"".join(p.read_bytes() for p in parts if p.exists())
        assert b"CREATE TABLE records" in stored
        return stored
    url = committed.url.replace("postgresql+psycopg://", "postgresql://", 1)
    dumped = subprocess.run(
        ["/usr/bin/pg_dump", "--dbname", url], capture_output=True, timeout=60, check=False
    )
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")
    assert b"COPY public.records" in dumped.stdout
    return dumped.stdout


def test_no_plaintext_kek_or_data_key_is_stored(
    committed: Committed, bylaws: Bylaws, ring: KeyRing
) -> None:
    with committed.session() as session:
        world = Trust(session, bylaws, ring)
        world.contribute(0, 0, CANARY)
        world.contribute(1, 1, CANARY + "-second")
        session.commit()
        # The canary really went in and comes back out through the read path.
        assert CANARY in {r["street"] for r in world.read(0)}
        session.commit()
        data_keys = [
            DataKeys(session, ring).for_member(m.id, create=False, at=T0) for m in world.members
        ]
    stored = _stored_bytes(committed)
    for needle in (CANARY, CANARY.lower(), "7f3a-" + CANARY.split("-")[2]):
        assert needle.encode() not in stored, f"plaintext {needle!r} is stored"
        assert needle.encode("utf-16-le") not in stored
    kek = (ring.directory / "0001.key").read_bytes()
    for secret in (kek, *[k for k in data_keys if k is not None]):
        assert secret not in stored and secret.hex().encode() not in stored, "key material stored"


# --- tampering ---------------------------------------------------------------------------------


def test_every_flipped_bit_fails_to_open(trust: Trust) -> None:
    record = trust.contribute(0, 0, "Mill Lane")
    key = DataKeys(trust.session, trust.ring).for_member(record.contributor_id, create=False, at=T0)
    assert key is not None
    aad = record_aad(record.asset_id, record.uid, record.contributor_id)
    assert open_sealed(key, Sealed(record.nonce, record.ciphertext), aad)  # the original opens
    blob = record.nonce + record.ciphertext
    positions = random.Random(26).sample(range(len(blob) * 8), k=min(400, len(blob) * 8))
    for bit in positions:
        flipped = bytearray(blob)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(VaultError):
            open_sealed(key, Sealed(bytes(flipped[:12]), bytes(flipped[12:])), aad)


def test_a_tampered_record_is_refused_never_served(trust: Trust) -> None:
    trust.contribute(0, 1, "Quay Street")
    bad = trust.contribute(0, 0, "Mill Lane")
    assert {r["street"] for r in trust.read(0)} == {"Quay Street", "Mill Lane"}
    flipped = bytearray(bad.ciphertext)
    flipped[3] ^= 0x10
    trust.session.execute(
        update(Record).where(Record.id == bad.id).values(ciphertext=bytes(flipped))
    )
    trust.session.expire_all()
    how = _refused_or_withheld(lambda: trust.read(0), bad.uid, "Mill Lane")
    assert how  # refused (raised) or withheld: never served


def test_a_tampered_record_through_the_api_is_not_a_server_error(
    client, db_session: Session, bylaws: Bylaws, ring: KeyRing
) -> None:  # type: ignore[no-untyped-def]
    """Invariant 8 meets 6: a row that does not open answers a 4xx problem (or is withheld),
    never a 500 and never plaintext."""
    trust = Trust(db_session, bylaws, ring, at=now() - timedelta(hours=1))
    trust.contribute(0, 1, "Quay Street")
    bad = trust.contribute(0, 0, "Mill Lane")
    headers = mint(db_session, trust.consumer, "records:read")
    url = f"/api/v1/assets/{trust.assets[0].id}/records?purpose={PURPOSE}"
    before = client.get(url, headers=headers)
    assert before.status_code == 200 and len(before.get_json()["records"]) == 2
    flipped = bytearray(bad.ciphertext)
    flipped[0] ^= 0x01
    db_session.execute(update(Record).where(Record.id == bad.id).values(ciphertext=bytes(flipped)))
    db_session.commit()
    after = client.get(url, headers=headers)
    body = after.get_data(as_text=True)
    assert "Mill Lane" not in body
    assert after.status_code < 500, f"a tampered row answers {after.status_code}: {body}"
    if after.status_code == 200:  # withheld: the rest is still served
        assert [r["street"] for r in after.get_json()["records"]] == ["Quay Street"]
    else:
        assert after.mimetype == "application/problem+json" and after.get_json()["code"]


@pytest.mark.parametrize(
    "other",
    [
        pytest.param((1, 0), id="other-asset-same-contributor"),
        pytest.param((0, 1), id="same-asset-other-contributor"),
        pytest.param((0, 0), id="same-asset-same-contributor-other-record"),
    ],
)
def test_a_ciphertext_moved_to_another_row_does_not_open(
    trust: Trust, other: tuple[int, int]
) -> None:
    mine = trust.contribute(0, 0, "Mill Lane")
    theirs = trust.contribute(other[0], other[1], "Rope Walk")
    # The vault itself: their sealed bytes under my row's key and associated data.
    key = DataKeys(trust.session, trust.ring).for_member(mine.contributor_id, create=False, at=T0)
    assert key is not None
    with pytest.raises(VaultError):
        open_sealed(
            key,
            Sealed(theirs.nonce, theirs.ciphertext),
            record_aad(mine.asset_id, mine.uid, mine.contributor_id),
        )
    # The stored rows: swap the two ciphertexts, then read my asset.
    a = (mine.nonce, mine.ciphertext)
    b = (theirs.nonce, theirs.ciphertext)
    for row, (nonce, ciphertext) in ((mine, b), (theirs, a)):
        trust.session.execute(
            update(Record).where(Record.id == row.id).values(nonce=nonce, ciphertext=ciphertext)
        )
    trust.session.expire_all()
    _refused_or_withheld(lambda: trust.read(0), mine.uid, "Rope Walk", "Mill Lane")


def test_a_wrapped_data_key_moved_to_another_member_does_not_open(trust: Trust) -> None:
    trust.contribute(0, 0, "Mill Lane")
    trust.contribute(0, 1, "Quay Street")
    ana, ben = (trust.session.get_one(MemberKey, m.id) for m in trust.members)
    with pytest.raises(VaultError):
        trust.ring.unwrap(ana.member_id, ben.kek_id, ben.wrapped_key)
    flipped = bytearray(ana.wrapped_key)
    flipped[-1] ^= 0x80
    with pytest.raises(VaultError):
        trust.ring.unwrap(ana.member_id, ana.kek_id, bytes(flipped))


# --- rotating the key-encryption key -----------------------------------------------------------


@pytest.fixture
def cli_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Engine]]:
    """Engines the in-process CLI makes, disposed afterwards (a process would just exit)."""
    made: list[Engine] = []
    real = cli_context.make_engine

    def tracked(url: str, **kwargs: object) -> Engine:
        engine = real(url, **kwargs)
        made.append(engine)
        return engine

    monkeypatch.setattr(cli_context, "make_engine", tracked)
    for name in ("CLTD_DATA_DIR", "CLTD_DATABASE_URL", "CLTD_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLTD_CLI_LOCALE", "en")
    yield made
    for engine in made:
        engine.dispose()


def _data_dir(tmp_path: Path, url: str) -> Path:
    """A trust's data directory pointing at URL (what `cltd init --database-url` leaves)."""
    data_dir = tmp_path / "trust"
    data_dir.mkdir()
    (data_dir / "secret_key").write_text("s" * 48, encoding="utf-8")
    (data_dir / "config.toml").write_text(
        f'trust_name = "Rotating Trust"\ndatabase_url = "{url}"\n', encoding="utf-8"
    )
    return data_dir


def test_cli_rotation_rewraps_every_key_and_leaves_records_alone(
    committed: Committed,
    bylaws: Bylaws,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cli_engines: list[Engine],
) -> None:
    data_dir = _data_dir(tmp_path, committed.url)
    ring = KeyRing(data_dir / "keys")
    with committed.session() as session:
        world = Trust(session, bylaws, ring)
        third = new_member(session, bylaws, name="Cy")
        world.members.append(third)
        consents.grant(
            session, bylaws.taxonomy, member=third, asset_id=None, purpose=PURPOSE, at=T0
        )
        for n in range(6):
            world.contribute(n % 2, n % 3, f"Street {n}")
        session.commit()
        keys_before = {
            k.member_id: (k.kek_id, k.wrapped_key) for k in session.scalars(select(MemberKey))
        }
        rows_before = {r.uid: (r.nonce, r.ciphertext) for r in session.scalars(select(Record))}
        expected = {a: sorted(r["street"] for r in world.read(a)) for a in (0, 1)}
        session.commit()
    assert len(keys_before) == 3 and {k for k, _w in keys_before.values()} == {1}

    run = cltd(capsys, "--data-dir", data_dir, "keys", "rotate")
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    assert "3" in run.out

    with committed.session() as session:
        keys_after = {
            k.member_id: (k.kek_id, k.wrapped_key) for k in session.scalars(select(MemberKey))
        }
        rows_after = {r.uid: (r.nonce, r.ciphertext) for r in session.scalars(select(Record))}
        assert keys_after.keys() == keys_before.keys()
        for member_id, (kek_id, wrapped) in keys_after.items():
            assert kek_id == 2, "a data key is still wrapped by the old KEK"
            assert wrapped != keys_before[member_id][1]
        assert rows_after == rows_before, "rotation touched record rows"
        rotated = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "keys.kek_rotated")
        ).all()
        assert len(rotated) == 1 and '"data_keys":3' in rotated[0].details
        assert verify_chain(session).ok

        world.session = session
        assert {
            a: sorted(r["street"] for r in world.read(a, KeyRing(data_dir / "keys")))
            for a in (0, 1)
        } == expected
        # The old KEK is gone for good: every record still opens under the new one.
        (data_dir / "keys" / "kek" / "0001.key").unlink()
        assert {
            a: sorted(r["street"] for r in world.read(a, KeyRing(data_dir / "keys")))
            for a in (0, 1)
        } == expected
        session.commit()


def test_rotation_rewraps_a_key_made_while_it_runs(
    committed: Committed, bylaws: Bylaws, ring: KeyRing
) -> None:
    """A member's first contribution (a new data key, wrapped by the current KEK) commits while
    a rotation is running: when both are done, no data key may be left under the old KEK, or
    deleting it would shred that member."""
    with committed.session() as session:
        world = Trust(session, bylaws, ring)
        world.contribute(0, 0, "Mill Lane")
        newcomer = new_member(session, bylaws, name="Dee")
        session.commit()
        newcomer_id = newcomer.id

    first = committed.session()
    try:
        member = first.get_one(Member, newcomer_id)
        asset = first.get_one(Asset, world.assets[0].id)
        records.contribute(
            first, ring, asset=asset, member=member, values={"street": "Tan Yard"}, at=now()
        )  # the data key is made and wrapped by KEK 1, not yet committed
        outcome: list[object] = []

        def rotate() -> None:
            with committed.session() as second:
                try:
                    outcome.append(rotate_kek(second, ring, actor="steward:test", at=now()))
                    second.commit()
                except BaseException as error:
                    outcome.append(error)

        rotation = threading.Thread(target=rotate, daemon=True)
        rotation.start()
        rotation.join(timeout=0.5)  # PostgreSQL: done by now; SQLite: queued behind `first`
        first.commit()
    finally:
        first.close()
    rotation.join(timeout=15)
    assert not rotation.is_alive() and outcome and not isinstance(outcome[0], BaseException), (
        outcome
    )
    new_id = outcome[0][0]  # type: ignore[index]
    with committed.session() as session:
        left = {
            k.member_id: k.kek_id for k in session.scalars(select(MemberKey)) if k.kek_id != new_id
        }
    assert not left, (
        f"data keys of members {sorted(left)} are still wrapped by KEK {set(left.values())} "
        f"after rotating to KEK {new_id}: deleting the old KEK would shred them"
    )
