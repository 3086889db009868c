"""Two live trusts and what it takes to move an asset between them: pinning each other, a
locked asset with contributors and consents, board votes on both sides, and the worker."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.adapters.keys import load_signing_key
from cltd.adapters.peerhttp import PeerResponse
from cltd.adapters.trustsigner import TrustSigner
from cltd.adapters.vault import KeyRing
from cltd.db import session_scope
from cltd.models import (
    Asset,
    AuditEntry,
    Direction,
    Member,
    OutboxJob,
    OutboxStatus,
    Peer,
    Record,
    Transfer,
)
from cltd.rules.bylaws import ProposalKind
from cltd.rules.codes import Code
from cltd.rules.tally import Ballot
from cltd.services import (
    access,
    assets,
    audit,
    consents,
    custody,
    governance,
    oauth,
    offers,
    outbox,
    peers,
    records,
    rulebook,
    transfer_exchange,
    transfers,
)
from cltd.services.members import add_member
from tests.federation.conftest import LiveTrust
from tests.services.test_governance import board

CONTRIBUTORS = (
    # email, class, purposes consented (asset-wide), records
    ("ana@example.org", "contributor", ["public-benefit"], 3),
    ("ben@example.org", "contributor", ["scientific-research"], 2),
    ("cho@example.org", "community", ["public-benefit", "scientific-research"], 1),
)


def ring(trust: LiveTrust) -> KeyRing:
    return KeyRing(trust.settings.data_dir / "keys")


def pin_each_other(a: LiveTrust, b: LiveTrust) -> tuple[int, int]:
    """Each pins the other. Returns (B's peer id at A, A's peer id at B)."""
    ids = []
    for here, there in ((a, b), (b, a)):
        intro = peers.introduce(here.fetcher(), there.url)
        with session_scope(here.sessions) as session:
            ids.append(peers.pin(session, intro, actor="steward:test", at=now()).id)
    return ids[0], ids[1]


def seed_asset(trust: LiveTrust, slug: str = "housing-survey") -> int:
    """A locked asset with six records of three contributors, each consenting as listed."""
    with session_scope(trust.sessions) as session:
        asset = assets.create_asset(
            session,
            trust.bylaws,
            slug=slug,
            title={"en": "Housing survey", "es": "Encuesta de vivienda"},
            description={"en": "Damp and repairs, street by street."},
            keywords=["housing"],
            actor="steward:test",
            at=now(),
            fields=[
                {"name": "street", "type": "text", "required": True},
                {"name": "damp", "type": "boolean"},
            ],
            permitted={"public-benefit": ["street", "damp"], "scientific-research": ["damp"]},
        )
        assert asset.locked
        for email, member_class, purposes, count in CONTRIBUTORS:
            member = add_member(
                session,
                trust.bylaws,
                email=email,
                display_name=email.split("@")[0].title(),
                member_class=member_class,
                password="a long enough password",
                actor="steward:test",
                at=now(),
            )
            for purpose in purposes:
                consents.grant(
                    session,
                    trust.bylaws.taxonomy,
                    member=member,
                    asset_id=None,
                    purpose=purpose,
                    at=now(),
                )
            for n in range(count):
                records.contribute(
                    session,
                    ring(trust),
                    asset=asset,
                    member=member,
                    values={"street": f"{email[:3]} street {n}", "damp": n % 2 == 0},
                    at=now(),
                )
        return asset.id


def seated_board(trust: LiveTrust) -> dict[str, list[Member]]:
    with session_scope(trust.sessions) as session:
        seats = board(session, trust.bylaws)
        return {c: [session.merge(m) for m in ms] for c, ms in seats.items()}


def vote_through(
    trust: LiveTrust,
    session: Session,
    seats: dict[str, list[Member]],
    proposal_id: int,
    choice: Ballot = Ballot.YES,
) -> None:
    """Open the proposal; every seat holder votes CHOICE until the outcome is settled."""
    proposal = governance.get_proposal(session, proposal_id)
    governance.open_voting(session, trust.bylaws, proposal, actor="steward:test", at=now())
    for members in seats.values():
        for member in members:
            if governance.get_proposal(session, proposal_id).status != "open":
                return  # settled early: no remaining ballot could change the outcome
            governance.cast(session, proposal_id, member=member, choice=choice, at=now())


def draft(
    trust: LiveTrust,
    session: Session,
    seats: dict[str, list[Member]],
    kind: ProposalKind,
    **extra: Any,
) -> int:
    """A public seat holder drafts a proposal of KIND; its id."""
    return governance.propose(
        session,
        trust.bylaws,
        author=session.get(Member, seats["public"][0].id),  # type: ignore[arg-type]
        kind=kind,
        title=f"A {kind.value} proposal",
        text="",
        at=now(),
        **extra,
    ).id


def decide(
    trust: LiveTrust,
    kind: ProposalKind,
    *,
    our_base: str | None = None,
    asset_id: int | None = None,
    **extra: Any,
) -> int:
    """The whole board passes a proposal of KIND, and it is carried out."""
    seats = seated_board(trust)
    with session_scope(trust.sessions) as session:
        if asset_id is not None:
            extra["asset"] = session.get(Asset, asset_id)
        proposal_id = draft(trust, session, seats, kind, **extra)
        vote_through(trust, session, seats, proposal_id)
        custody.execute(
            session,
            proposal_id,
            actor="steward:test",
            at=now(),
            bylaws=trust.bylaws,
            our_base=our_base,
        )
        return proposal_id


def pass_transfer(trust: LiveTrust, asset_id: int, peer_id: int) -> int:
    """The board passes a transfer of the asset to the peer trust, and it is carried out."""
    return decide(
        trust,
        ProposalKind.TRANSFER,
        our_base=trust.url,
        asset_id=asset_id,
        recipient_peer_id=peer_id,
    )


def accept_by_board(trust: LiveTrust, transfer_pk: int) -> int:
    return decide(trust, ProposalKind.ACCEPT_ASSET, transfer_pk=transfer_pk)


def incoming(trust: LiveTrust) -> Transfer:
    with session_scope(trust.sessions) as session:
        found = session.scalar(
            select(Transfer)
            .where(Transfer.direction == Direction.INCOMING)
            .order_by(Transfer.id.desc())
        )
        assert found is not None, "no offer arrived"
        session.expunge(found)
        return found


def outgoing(trust: LiveTrust) -> Transfer:
    with session_scope(trust.sessions) as session:
        found = session.scalar(
            select(Transfer)
            .where(Transfer.direction == Direction.OUTGOING)
            .order_by(Transfer.id.desc())
        )
        assert found is not None
        session.expunge(found)
        return found


def exchange(trust: LiveTrust) -> transfer_exchange.Exchange:
    return transfer_exchange.Exchange.for_trust(
        trust.settings, trust.sessions, trust.bylaws, fetcher=trust.fetcher()
    )


def work(trust: LiveTrust) -> int:
    """One worker round, as `cltd worker --once` does it, with every job due now."""
    with session_scope(trust.sessions) as session:
        session.execute(
            update(OutboxJob)
            .where(OutboxJob.status == OutboxStatus.PENDING)
            .values(next_attempt_at=now() - timedelta(seconds=1))
        )
        offers.expire_due(session, now())
    ex = exchange(trust)

    def deliver(job: outbox.Claimed) -> str | None:
        assert job.kind in transfer_exchange.KINDS, job.kind
        return ex.deliver(job)

    return outbox.run_once(trust.sessions, deliver, now)


def consumer_reads(trust: LiveTrust, slug: str, purpose: str) -> list[dict[str, Any]]:
    """A consumer of TRUST with a grant for PURPOSE reads every record it is served."""
    with session_scope(trust.sessions) as session:
        asset = session.scalar(select(Asset).where(Asset.slug == slug))
        assert asset is not None
        registered = oauth.register_client(
            session,
            name=f"Study {purpose} {now().timestamp()}",
            organisation="University",
            client_type="confidential",
            redirect_uris=[],
            scopes=["records:read", "access:request"],
            grant_types=["client_credentials"],
            may_introspect=False,
            actor="steward:test",
            at=now(),
        )
        answer = access.request_access(
            session,
            rulebook.in_force(session, trust.bylaws),
            client=registered.client,
            asset=asset,
            purpose=purpose,
            justification="Housing repairs programme evaluation.",
            at=now(),
        )
        assert answer.grant is not None
        page = records.read_page(
            session,
            ring(trust),
            trust.bylaws.taxonomy,
            client=registered.client,
            asset=asset,
            purpose=purpose,
            after=0,
            limit=1000,
            at=now(),
        )
        return page.records


def record_count(trust: LiveTrust) -> int:
    with session_scope(trust.sessions) as session:
        return session.scalar(select(func.count()).select_from(Record)) or 0


def held(trust: LiveTrust, slug: str) -> bool:
    with session_scope(trust.sessions) as session:
        asset = session.scalar(select(Asset).where(Asset.slug == slug))
        return asset is not None and asset.status == "held"


def transfer_entries(trust: LiveTrust, transfer_id: str) -> list[str]:
    """The actions of the audit entries about this transfer, oldest first."""
    with session_scope(trust.sessions) as session:
        return [
            e.action
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            if json.loads(e.details).get("transfer") == transfer_id
        ]


def chain_intact(trust: LiveTrust) -> bool:
    with session_scope(trust.sessions) as session:
        return audit.verify_chain(session).ok


def peer_id_of(trust: LiveTrust, other: LiveTrust) -> int:
    with session_scope(trust.sessions) as session:
        return session.scalar(select(Peer.id).where(Peer.origin == other.url))  # type: ignore[return-value]


def post_offer(
    a: LiveTrust, b: LiveTrust, tamper: Callable[[dict[str, Any]], None]
) -> PeerResponse:
    """A's offer as A would send it, changed by TAMPER, then signed with A's own key: only
    the checks of its content can refuse it."""
    with session_scope(a.sessions) as session:
        transfer = session.scalar(select(Transfer).where(Transfer.direction == Direction.OUTGOING))
        assert transfer is not None
        document = transfers.offer_document(session, transfer, a.bylaws, a.name)
    tamper(document)
    signer = TrustSigner(a.url, load_signing_key(a.settings.signing_key_path))
    return a.fetcher().post_json(b.url + "/federation/offers", signer.sign(document, now()))


def refused_with(answer: PeerResponse, status: int, code: Code) -> None:
    body = answer.json()
    assert (answer.status, body["code"]) == (status, code.value), body
    assert body["detail"]  # a sentence the other steward can read
