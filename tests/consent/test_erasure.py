"""A member is erased (invariant 6, crypto-shredding; invariant 5, the trail stays). Both engines.

After erasure.erase_member: no read or page of any purpose serves the member's data, their
data key row is gone (so a copy of their ciphertexts opens under nothing the trust holds),
their records are deleted, their consents ended, their tokens and browser sessions dead, they
cannot sign in, their seat is vacated, and the audit entries about them (and the record of who
used their data) remain, in a chain that still verifies. Consumers holding their data are told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.adapters.vault import KeyRing, Sealed, VaultError, open_sealed, record_aad
from cltd.models import (
    AccessEventContributor,
    Asset,
    AuditEntry,
    Consent,
    Member,
    MemberKey,
    OAuthClient,
    OAuthToken,
    OutboxJob,
    Record,
    Seat,
    WebSession,
)
from cltd.resources import default_bylaws_path
from cltd.rules.bylaws import Bylaws, load_bylaws
from cltd.services import consents, erasure, members, records, seats
from cltd.services.audit import verify_chain
from cltd.services.datakeys import DataKeys
from cltd.services.errors import ServiceError
from tests.consent.conftest import PASSWORD, new_asset, new_consumer, new_grant, new_member
from tests.support import mint, register
from tests.web.helpers import sign_in

PURPOSES = ("improve-public-services", "public-benefit", "research-and-development")


@dataclass
class Scene:
    ana: Member
    ben: Member
    assets: list[Asset]
    consumer: OAuthClient
    ana_rows: list[tuple[str, int, bytes, bytes]]  # (uid, asset, nonce, ciphertext): a "backup"
    ben_uids: set[str]
    at: datetime


def _scene(session: Session, bylaws: Bylaws, ring: KeyRing, webhook: str | None = None) -> Scene:
    at = now() - timedelta(hours=1)
    assets = [
        new_asset(
            session,
            bylaws,
            at=at,
            permitted={
                "public-benefit": ["street", "damp"],
                "research-and-development": ["street", "rooms"],
            },
        )
        for _ in range(2)
    ]
    ana = new_member(session, bylaws, name="Ana", at=at)
    ben = new_member(session, bylaws, name="Ben", at=at)
    consumer = new_consumer(session, webhook_url=webhook)
    for asset in assets:
        for purpose in PURPOSES:
            new_grant(session, consumer, asset, purpose, starts_at=at)
    for member in (ana, ben):
        consents.grant(
            session, bylaws.taxonomy, member=member, asset_id=None, purpose="public-benefit", at=at
        )
        consents.grant(
            session,
            bylaws.taxonomy,
            member=member,
            asset_id=assets[1].id,
            purpose="research-and-development",
            at=at,
        )
    made = [
        records.contribute(
            session,
            ring,
            asset=assets[n % 2],
            member=ana,
            values={"street": f"Ana Street {n}", "rooms": n},
            at=at,
        )
        for n in range(3)
    ]
    ben_uids = {
        records.contribute(
            session, ring, asset=asset, member=ben, values={"street": "Ben Street"}, at=at
        ).uid
        for asset in assets
    }
    seats.assign_seat(
        session,
        bylaws,
        member=ana,
        member_class=ana.member_class,
        number=1,
        actor="steward:test",
        at=at,
    )
    session.commit()
    rows = [(r.uid, r.asset_id, r.nonce, r.ciphertext) for r in made]
    return Scene(ana, ben, assets, consumer, rows, ben_uids, at)


def _every_read(session: Session, ring: KeyRing, bylaws: Bylaws, scene: Scene) -> list[dict]:
    """Everything the consumer can read, every asset, every purpose it holds, page by page."""
    served: list[dict] = []
    for asset in scene.assets:
        for purpose in PURPOSES:
            after: int | None = 0
            while after is not None:
                page = records.read_page(
                    session,
                    ring,
                    bylaws.taxonomy,
                    client=scene.consumer,
                    asset=asset,
                    purpose=purpose,
                    after=after,
                    limit=1,
                    at=now(),
                )
                served.extend(page.records)
                after = page.next_after
    return served


def _erase(session: Session, scene: Scene) -> int:
    taxonomy = load_bylaws(default_bylaws_path()).taxonomy
    count = erasure.erase_member(session, taxonomy, scene.ana, actor="steward:test", at=now())
    session.commit()
    return count


def test_after_erasure_nothing_of_the_member_is_served(
    db_session: Session, bylaws: Bylaws, ring: KeyRing, client: FlaskClient
) -> None:
    scene = _scene(db_session, bylaws, ring)
    before = _every_read(db_session, ring, bylaws, scene)
    assert {r["id"] for r in before} >= {uid for uid, *_ in scene.ana_rows}  # served before
    db_session.commit()

    assert _erase(db_session, scene) == 3

    after = _every_read(db_session, ring, bylaws, scene)
    served = {r["id"] for r in after}
    assert served == scene.ben_uids
    assert not any("Ana Street" in str(r) for r in after)
    headers = mint(db_session, scene.consumer, "records:read")
    for asset in scene.assets:
        for purpose in PURPOSES:
            response = client.get(
                f"/api/v1/assets/{asset.id}/records?purpose={purpose}", headers=headers
            )
            assert response.status_code == 200
            assert "Ana Street" not in response.get_data(as_text=True)
            assert {r["id"] for r in response.get_json()["records"]} <= scene.ben_uids


def test_erasure_shreds_the_key_deletes_records_and_keeps_the_trail(
    db_session: Session, bylaws: Bylaws, ring: KeyRing
) -> None:
    scene = _scene(db_session, bylaws, ring)
    _every_read(db_session, ring, bylaws, scene)  # the consumer used Ana's data: logged
    db_session.commit()
    ana_id, ben_id = scene.ana.id, scene.ben.id
    trail_before = db_session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.subject == f"member:{ana_id}")
    )
    uses_before = db_session.scalar(
        select(func.count())
        .select_from(AccessEventContributor)
        .where(AccessEventContributor.member_id == ana_id)
    )
    assert trail_before and uses_before

    _erase(db_session, scene)
    db_session.expire_all()

    # Crypto-shredding: no key row, nothing to unwrap, a kept copy opens under no key we hold.
    assert db_session.get(MemberKey, ana_id) is None
    assert db_session.get(MemberKey, ben_id) is not None
    assert DataKeys(db_session, ring).for_member(ana_id, create=False, at=now()) is None
    remaining = [
        ring.unwrap(k.member_id, k.kek_id, k.wrapped_key)
        for k in db_session.scalars(select(MemberKey))
    ]
    for uid, asset_id, nonce, ciphertext in scene.ana_rows:
        for key in remaining:
            with pytest.raises(VaultError):
                open_sealed(key, Sealed(nonce, ciphertext), record_aad(asset_id, uid, ana_id))
    # Records gone, Ben's untouched.
    owners = db_session.scalars(select(Record.contributor_id)).all()
    assert ana_id not in owners and owners.count(ben_id) == 2
    # Consents ended (history kept), seat vacated, status left, no password.
    assert consents.live_consents(db_session, ana_id, now()) == []
    assert all(c.withdrawn_at is not None for c in consents.history(db_session, ana_id))
    assert db_session.scalars(select(Consent).where(Consent.member_id == ana_id)).all()
    assert db_session.scalars(select(Seat).where(Seat.holder_id == ana_id)).all() == []
    member = db_session.get_one(Member, ana_id)
    assert member.status == "left" and member.password_hash is None
    # The trail stays and still verifies; the erasure itself is in it.
    trail_after = db_session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.subject == f"member:{ana_id}")
    )
    assert trail_after == trail_before + 1
    erased = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "member.erased")
    ).one()
    assert erased.subject == f"member:{ana_id}" and '"records_deleted":3' in erased.details
    assert "Ana Street" not in "".join(e.details for e in db_session.scalars(select(AuditEntry)))
    assert verify_chain(db_session).ok
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(AccessEventContributor)
            .where(AccessEventContributor.member_id == ana_id)
        )
        == uses_before
    )


def test_erasure_ends_tokens_sessions_and_sign_in(
    db_session: Session, bylaws: Bylaws, ring: KeyRing, client: FlaskClient, app
) -> None:  # type: ignore[no-untyped-def]
    scene = _scene(db_session, bylaws, ring)
    survey = register(
        db_session, scopes=["profile:read", "consent:read"], confidential=False, name="App"
    )
    bearer = mint(db_session, survey, "profile:read consent:read", scene.ana)
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    browser = app.test_client()
    assert sign_in(browser, scene.ana.email, PASSWORD).status_code == 302
    assert browser.get("/account/apps").status_code == 200
    assert db_session.scalars(select(WebSession).where(WebSession.member_id == scene.ana.id)).all()

    _erase(db_session, scene)

    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert client.get("/api/v1/me/uses", headers=bearer).status_code == 401
    tokens = db_session.scalars(select(OAuthToken).where(OAuthToken.member_id == scene.ana.id))
    assert all(t.revoked_at is not None for t in tokens)
    assert (
        db_session.scalars(select(WebSession).where(WebSession.member_id == scene.ana.id)).all()
        == []
    )
    gone = browser.get("/account/apps")
    assert gone.status_code == 302 and "/signin" in gone.headers["Location"]
    assert sign_in(app.test_client(), scene.ana.email, PASSWORD).status_code == 400
    with pytest.raises(ServiceError):
        members.sign_in(
            db_session,
            email=scene.ana.email,
            password=PASSWORD,
            at=now(),
            lifetime=timedelta(hours=1),
        )


def test_erasure_tells_the_consumers_that_hold_the_members_data(
    db_session: Session, bylaws: Bylaws, ring: KeyRing
) -> None:
    """Ending a member's consents by erasure is a withdrawal too: every consumer with a live
    grant those consents covered is sent a notice (GDPR art. 17(2), 19), as for a withdrawal."""
    scene = _scene(db_session, bylaws, ring, webhook="http://127.0.0.1:9/hook")
    _erase(db_session, scene)
    notices = db_session.scalars(select(OutboxJob).where(OutboxJob.member_id == scene.ana.id)).all()
    assert notices, "an erased member's consumers are never told"
    assert {n.target for n in notices} == {"http://127.0.0.1:9/hook"}


def test_nothing_new_is_stored_for_an_erased_member(
    db_session: Session, bylaws: Bylaws, ring: KeyRing
) -> None:
    """A member who left holds no data key again: the services refuse to seal a record or
    record a consent for them (the API already refuses their revoked tokens)."""
    scene = _scene(db_session, bylaws, ring)
    _erase(db_session, scene)
    with pytest.raises(ServiceError):
        records.contribute(
            db_session,
            ring,
            asset=scene.assets[0],
            member=scene.ana,
            values={"street": "After Leaving"},
            at=now(),
        )
    db_session.rollback()
    assert db_session.get(MemberKey, scene.ana.id) is None
    with pytest.raises(ServiceError):
        consents.grant(
            db_session,
            bylaws.taxonomy,
            member=scene.ana,
            asset_id=None,
            purpose="public-benefit",
            at=now(),
        )
