"""Transfers between trusts, the receiving side. An offer from a pinned peer is checked before
anyone here can act on it: its proof against the pinned key, its decision record recounted, a
passed transfer of this very asset to this very trust, the asset locked and held by the
sender. Our bylaws say who accepts (the steward, or the board by an accept_asset proposal).
Accepting queues the worker, which fetches the records, stages them sealed under our keys
(served by no one), sends a signed acceptance of exactly what it fetched, and on the sender's
signed receipt makes the asset ours (custody.receive). Refusing tells the sender why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cltd.adapters.canonical import canonical_json
from cltd.adapters.vault import KeyRing, VaultError, record_aad, seal
from cltd.models import (
    UNDECIDED,
    Asset,
    AssetStatus,
    Consent,
    Direction,
    Member,
    MemberStatus,
    Peer,
    PeerDataset,
    Proposal,
    ProposalStatus,
    Record,
    Transfer,
    TransferState,
)
from cltd.rules.bylaws import Acceptor, Bylaws
from cltd.rules.codes import Code
from cltd.rules.fields import check_record, parse_field_specs
from cltd.services import assets, audit, decisions, governance, outbox
from cltd.services.audit import AuditAction
from cltd.services.datakeys import DataKeys
from cltd.services.errors import Conflict, Forbidden, InvalidInput
from cltd.services.members import normalise_email
from cltd.services.transfers import (
    NOT_ACCEPTED_IN_TIME,
    agent_of,
    due_offers,
    moment_of,
    record_ending,
)

_TRANSFER_ID = re.compile(r"^[0-9a-f]{32}$")  # and record ids: uuid4 hex


class PackageInvalid(ValueError):
    """The records a sender served cannot be received as they are (the reason, in words)."""


def _bad(problem: str, field: str = "offer") -> InvalidInput:
    return InvalidInput(Code.TRANSFER_BAD_DOCUMENT, field, {"problem": problem})


def _time(value: object, field: str) -> datetime:
    moment = moment_of(value)
    if moment is None:
        raise _bad(f"{field} is not a time with its zone", field)
    return moment


def _int(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad(f"{field} is not a count", field)
    return value


def receive_offer(
    session: Session,
    peer: Peer,
    offer: Mapping[str, Any],
    *,
    our_base: str,
    at: datetime,
) -> tuple[Transfer, bool]:
    """Keep a verified offer (the caller checked its proof with PEER's pinned key). Returns the
    transfer and whether it is new; the same offer again is answered the same way."""
    transfer_id = offer.get("transferId")
    if offer.get("type") != "TransferOffer" or not isinstance(transfer_id, str):
        raise _bad("it is not a transfer offer", "type")
    if not _TRANSFER_ID.match(transfer_id):
        raise _bad("the transfer id is not 32 hexadecimal digits", "transferId")
    if offer.get("sender") != agent_of(peer.origin):
        raise Forbidden(Code.TRANSFER_UNKNOWN_TRUST, "sender")
    if offer.get("recipient") != agent_of(our_base):
        raise Forbidden(Code.TRANSFER_WRONG_RECIPIENT, "recipient")
    known = session.scalar(
        select(Transfer)
        .where(Transfer.transfer_id == transfer_id, Transfer.direction == Direction.INCOMING)
        .with_for_update()
    )
    if known is not None:
        if known.state in (TransferState.COMPLETED, TransferState.REFUSED, TransferState.EXPIRED):
            raise Conflict(Code.TRANSFER_REPLAYED, "transferId")
        if _unsigned(known.offer) != _unsigned(offer):
            raise Conflict(Code.TRANSFER_REPLAYED, "transferId")
        return known, False
    dataset = offer.get("dataset")
    record = offer.get("decision")
    if not isinstance(dataset, Mapping) or not isinstance(record, Mapping):
        raise _bad("it carries no dataset or no decision record", "dataset")
    _check_decision(record, dataset, peer, our_base)
    _check_dataset(session, peer, dataset)
    reused = session.scalar(
        select(Transfer.id).where(
            Transfer.direction == Direction.INCOMING, Transfer.decision_iri == record.get("id")
        )
    )
    if reused is not None:  # one decision, one offer: a second offer on it is a replay
        raise Conflict(Code.TRANSFER_REPLAYED, "decision")
    expires = _time(offer.get("expires"), "expires")
    if expires <= at:
        raise Conflict(Code.TRANSFER_EXPIRED, "expires")
    title = dataset.get("title")
    transfer = Transfer(
        transfer_id=transfer_id,
        direction=Direction.INCOMING,
        state=TransferState.OFFERED,
        peer_id=peer.id,
        asset_id=None,
        proposal_id=None,
        our_base=our_base,
        title=dict(title) if isinstance(title, Mapping) else {"en": str(title)},
        offer=dict(offer),
        records=_int(offer.get("recordCount"), "recordCount"),
        contributors=_int(offer.get("contributorCount"), "contributorCount"),
        expires_at=expires,
        created_at=at,
        updated_at=at,
        decision_iri=str(record.get("id"))[:500],
    )
    try:
        with session.begin_nested():
            session.add(transfer)
    except IntegrityError:
        # The same offer, or two offers on one decision, arriving at once: the other was kept.
        raise Conflict(Code.TRANSFER_REPLAYED, "transferId") from None
    audit.record(
        session,
        actor=f"peer:{peer.id}",
        action=AuditAction.TRANSFER_RECEIVED,
        subject=f"transfer:{transfer_id}",
        at=at,
        details={
            "transfer": transfer_id,
            "sender": peer.name,
            "dataset": dataset.get("id"),
            "decision": record.get("id"),
            "records": transfer.records,
            "contributors": transfer.contributors,
        },
    )
    return transfer, True


def _unsigned(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def _check_decision(
    record: Mapping[str, Any], dataset: Mapping[str, Any], peer: Peer, our_base: str
) -> None:
    """The record recounts, and it is a passed transfer of this asset to us, by the sender."""
    try:
        passed = decisions.check_record(record)
    except decisions.RecountRefused as refused:
        raise InvalidInput(
            Code.TRANSFER_DECISION_NOT_RECOUNTED, "decision", {"problem": str(refused)}
        ) from None
    publisher = record.get("publisher")
    if (
        not passed
        or record.get("proposalKind") != "transfer"
        or record.get("subject") != dataset.get("id")
        or record.get("recipientTrust") != agent_of(our_base)
        or not isinstance(publisher, Mapping)
        or publisher.get("id") != agent_of(peer.origin)
    ):
        raise Forbidden(Code.TRANSFER_DECISION_MISMATCH, "decision")


def _check_dataset(session: Session, peer: Peer, dataset: Mapping[str, Any]) -> None:
    iri = dataset.get("id")
    if not isinstance(iri, str) or not iri.startswith(peer.origin + "/"):
        raise _bad("the dataset is not one of the sender's", "dataset")
    if dataset.get("assetLocked") is not True:
        raise Forbidden(Code.TRANSFER_ASSET_NOT_LOCKED, "dataset.assetLocked")
    synced = session.scalar(
        select(PeerDataset).where(PeerDataset.peer_id == peer.id, PeerDataset.iri == iri)
    )
    # The sender's own catalog, as last synced, must not say it has gone elsewhere.
    if dataset.get("custodyStatus") != "held" or (synced is not None and synced.status != "held"):
        raise Conflict(Code.TRANSFER_ASSET_NOT_HELD, "dataset")


def _open_incoming(session: Session, transfer_pk: int, at: datetime) -> Transfer:
    transfer = session.get(Transfer, transfer_pk, with_for_update=True)
    if transfer is None or transfer.direction != Direction.INCOMING:
        raise Conflict(Code.TRANSFER_UNKNOWN, "transfer")
    if transfer.state != TransferState.OFFERED:
        raise Conflict(Code.TRANSFER_NOT_OPEN, "transfer")
    if transfer.expires_at <= at:
        raise Conflict(Code.TRANSFER_EXPIRED, "transfer")
    return transfer


def accept(
    session: Session, transfer_pk: int, *, actor: str, at: datetime, by_board: bool
) -> Transfer:
    """Yes: the worker fetches the records and completes the exchange. By the board through
    custody.execute of an accept_asset proposal, or by the steward where the bylaws say so."""
    transfer = _open_incoming(session, transfer_pk, at)
    transfer.state, transfer.updated_at = TransferState.ACCEPTED, at
    outbox.enqueue(
        session, "transfer.accept", transfer.peer.origin, {"transfer": transfer.transfer_id}, at
    )
    if not by_board:
        audit.record(
            session,
            actor=actor,
            action=AuditAction.TRANSFER_ACCEPTED,
            subject=f"transfer:{transfer.transfer_id}",
            at=at,
            details={"transfer": transfer.transfer_id, "by": "steward"},
        )
    session.flush()
    return transfer


def accept_by_steward(
    session: Session, bylaws: Bylaws, transfer_pk: int, *, actor: str, at: datetime
) -> Transfer:
    if bylaws.transfers.incoming != Acceptor.STEWARD:
        raise Forbidden(Code.TRANSFER_BOARD_DECIDES, "transfer")
    return accept(session, transfer_pk, actor=actor, at=at, by_board=False)


def refuse(
    session: Session,
    bylaws: Bylaws,
    transfer_pk: int,
    *,
    reason: str,
    actor: str,
    at: datetime,
) -> Transfer:
    """No: the asset stays with its sender, who is told why (the worker sends it). Where the
    board decides offers, the steward says no only once the board has: its accept_asset
    proposal was rejected, and none is still on its way."""
    if not reason.strip():
        raise InvalidInput(Code.TRANSFER_REASON_REQUIRED, "reason")
    transfer = _open_incoming(session, transfer_pk, at)
    if bylaws.transfers.incoming == Acceptor.BOARD and not _board_said_no(session, transfer, at):
        raise Forbidden(Code.TRANSFER_BOARD_DECIDES, "transfer")
    tell_sender_no(session, transfer, "refused", reason.strip(), actor=actor, at=at)
    session.flush()
    return transfer


def tell_sender_no(
    session: Session, transfer: Transfer, code: str, reason: str, *, actor: str, at: datetime
) -> None:
    """End the offer here as refused, and queue telling its sender why (the worker sends it)."""
    end(session, transfer, code, reason, actor=actor, at=at)
    outbox.enqueue(
        session,
        "transfer.refuse",
        transfer.peer.origin,
        {"transfer": transfer.transfer_id, "reason": reason[:500]},
        at,
    )


def _board_said_no(session: Session, transfer: Transfer, at: datetime) -> bool:
    deciding = list(
        session.scalars(
            select(Proposal).where(Proposal.transfer_pk == transfer.id).order_by(Proposal.id)
        )
    )
    for proposal in deciding:
        governance.settle(session, proposal, at)  # one past its deadline closes now
    statuses = {p.status for p in deciding}
    return ProposalStatus.REJECTED in statuses and not statuses & set(UNDECIDED)


def end(
    session: Session, transfer: Transfer, code: str, reason: str, *, actor: str, at: datetime
) -> None:
    """The offer ends here without the asset (refused, expired, or the sender said no): any
    staged records are deleted, never having been served."""
    unstage(session, transfer)
    record_ending(
        session,
        transfer,
        code=code,
        reason=reason,
        actor=actor,
        at=at,
        subject=f"transfer:{transfer.transfer_id}",
    )


def expire_due(session: Session, at: datetime) -> int:
    """Offers received that were not accepted in time end as expired."""
    due = due_offers(session, Direction.INCOMING, at)
    for transfer in due:
        end(
            session,
            transfer,
            Code.TRANSFER_EXPIRED,
            NOT_ACCEPTED_IN_TIME,
            actor="system:worker",
            at=at,
        )
    return len(due)


def unstage(session: Session, transfer: Transfer) -> None:
    if transfer.asset_id is None:
        return
    asset = session.get(Asset, transfer.asset_id)
    if asset is None or asset.status != AssetStatus.ARRIVING:
        return
    session.execute(delete(Record).where(Record.asset_id == asset.id))
    session.execute(delete(Consent).where(Consent.asset_id == asset.id))


def stage(
    session: Session,
    ring: KeyRing,
    bylaws: Bylaws,
    transfer: Transfer,
    package: Mapping[str, Any],
    *,
    package_digest: str,
    at: datetime,
) -> None:
    """Seal the fetched records under our keys, with their contributors' consents, in an
    asset no one here is served until the sender's receipt. Checked in full first: a package
    that does not match the offer or our rules is refused (PackageInvalid) and nothing stays."""
    contributors, records, spec = _checked(bylaws, transfer, package)
    unstage(session, transfer)
    uids = [r["uid"] for r in records]
    for start in range(0, len(uids), 1000):
        if session.scalar(select(Record.id).where(Record.uid.in_(uids[start : start + 1000]))):
            raise PackageInvalid("a record id is already used by a record held here")
    asset = session.get(Asset, transfer.asset_id) if transfer.asset_id else None
    provenance = {
        "trust": agent_of(transfer.peer.origin),
        "origin": transfer.peer.origin,
        "dataset": package["dataset"],
        "decision": transfer.offer["decision"]["id"],  # type: ignore[index]
        "transfer": transfer.transfer_id,
    }
    if asset is None:
        asset = _create_arriving(session, bylaws, transfer, spec, provenance, at)
        transfer.asset_id = asset.id
    keys = DataKeys(session, ring)
    members = {c["ref"]: _member_for(session, c, at) for c in contributors}
    for contributor in contributors:
        member = members[contributor["ref"]]
        for consent in contributor["consents"]:
            session.add(
                Consent(
                    member_id=member.id,
                    asset_id=asset.id,
                    purpose=consent["purpose"],
                    granted_at=consent["grantedAt"],
                    expires_at=consent["expiresAt"],
                )
            )
    for row in records:
        member = members[row["contributor"]]
        key = keys.for_member(member.id, create=True, at=at)
        if key is None:  # ours, not the package's: tried again once the key is mended
            raise VaultError(f"the data key of member {member.id} here does not open")
        sealed = seal(
            key, canonical_json(row["values"]), record_aad(asset.id, row["uid"], member.id)
        )
        session.add(
            Record(
                uid=row["uid"],
                asset_id=asset.id,
                contributor_id=member.id,
                nonce=sealed.nonce,
                ciphertext=sealed.ciphertext,
                created_at=row["createdAt"],
            )
        )
    transfer.state, transfer.package_digest, transfer.updated_at = (
        TransferState.STAGED,
        package_digest,
        at,
    )
    session.flush()
    audit.record(
        session,
        actor="system:worker",
        action=AuditAction.TRANSFER_STAGED,
        subject=f"transfer:{transfer.transfer_id}",
        at=at,
        details={
            "transfer": transfer.transfer_id,
            "records": len(records),
            "package": package_digest,
        },
    )


def _create_arriving(
    session: Session,
    bylaws: Bylaws,
    transfer: Transfer,
    spec: Mapping[str, Any],
    provenance: Mapping[str, Any],
    at: datetime,
) -> Asset:
    policy = spec["policy"]
    try:
        return assets.create_asset(
            session,
            bylaws,
            slug=_free_slug(session, str(spec["slug"]), transfer.transfer_id),
            title=spec["title"],
            description=spec.get("description") or {},
            keywords=spec.get("keywords") or [],
            actor=f"peer:{transfer.peer_id}",
            at=at,
            fields=spec["fields"],
            contributing_classes=[
                c for c in spec.get("contributingClasses") or [] if c in bylaws.class_keys()
            ]
            or None,
            permitted=policy.get("permitted") or {},
            prohibited=policy.get("prohibited") or [],
            duties=policy.get("duties") or [],
            status=AssetStatus.ARRIVING,
            locked=True,
            provenance=provenance,
        )
    except (InvalidInput, Conflict) as error:
        raise PackageInvalid(f"the asset cannot be held here ({error.code})") from None


def _free_slug(session: Session, slug: str, transfer_id: str) -> str:
    taken = session.scalar(select(Asset.id).where(Asset.slug == slug)) is not None
    return f"{slug[:70]}-{transfer_id[:6]}" if taken else slug


def _member_for(session: Session, contributor: Mapping[str, Any], at: datetime) -> Member:
    """A member here with the same address, or a non-member contributor of this asset."""
    email = normalise_email(contributor["email"])
    member = session.scalar(select(Member).where(Member.email == email))
    if member is not None and member.status == MemberStatus.LEFT:
        # Their data here was shredded at their request; holding theirs again would undo it.
        raise PackageInvalid(
            "a contributor left this trust and had their data erased here; it will not hold "
            "their records again"
        )
    if member is None:
        member = Member(
            email=email,
            display_name=str(contributor.get("name") or email)[:120],
            member_class=str(contributor.get("memberClass") or "")[:40],
            is_steward=False,
            password_hash=None,
            status=MemberStatus.NON_MEMBER,
            created_at=at,
        )
        session.add(member)
        session.flush()
    return member


def _checked(
    bylaws: Bylaws, transfer: Transfer, package: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Mapping[str, Any]]:
    """The package, checked against the offer and our rules; PackageInvalid names what fails."""
    try:
        if package.get("transferId") != transfer.transfer_id:
            raise PackageInvalid("it is for another transfer")
        offered = transfer.offer.get("dataset")
        if not isinstance(offered, Mapping) or package.get("dataset") != offered.get("id"):
            raise PackageInvalid("it is for another dataset")
        spec = package["asset"]
        if spec["title"] != offered.get("title") or spec["locked"] is not True:
            raise PackageInvalid("its asset is not the one offered (title or lock differ)")
        specs, problem = parse_field_specs(spec["fields"])
        if problem is not None:
            raise PackageInvalid(f"its record fields are not valid ({problem.code})")
        policy = spec["policy"]
        for purpose in [*policy.get("permitted", {}), *policy.get("prohibited", [])]:
            if bylaws.taxonomy.get(purpose) is None:
                raise PackageInvalid(f"its policy names the purpose {purpose!r}, unknown here")
        contributors = []
        for entry in package["contributors"]:
            consents = []
            for consent in entry["consents"]:
                if bylaws.taxonomy.get(consent["purpose"]) is None:
                    raise PackageInvalid(f"a consent names the purpose {consent['purpose']!r}")
                expires = consent.get("expiresAt")
                consents.append(
                    {
                        "purpose": consent["purpose"],
                        "grantedAt": _moment(consent["grantedAt"]),
                        "expiresAt": _moment(expires) if expires else None,
                    }
                )
            email = entry["email"]
            if not isinstance(email, str) or "@" not in email or len(email) > 254:
                raise PackageInvalid("a contributor has no usable email address")
            if not isinstance(entry["name"], str) or not isinstance(entry["memberClass"], str):
                raise PackageInvalid("a contributor has no name or class")
            contributors.append({**entry, "consents": consents})
        if len({normalise_email(c["email"]) for c in contributors}) != len(contributors):
            raise PackageInvalid("two contributors share an email address")
        refs = {c["ref"] for c in contributors}
        records = []
        for row in package["records"]:
            clean, problem = check_record(specs, row["values"])
            if problem is not None or row["contributor"] not in refs:
                raise PackageInvalid(f"record {row.get('uid')} does not fit the asset's fields")
            if not _TRANSFER_ID.match(str(row["uid"])):
                raise PackageInvalid("a record has no valid id")
            records.append({**row, "values": clean, "createdAt": _moment(row["createdAt"])})
        if len({r["uid"] for r in records}) != len(records):
            raise PackageInvalid("two records share an id")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, PackageInvalid):
            raise
        raise PackageInvalid(f"it is not in the expected form ({error})") from None
    if len(records) != transfer.records or len(contributors) != transfer.contributors:
        raise PackageInvalid(
            f"it holds {len(records)} records of {len(contributors)} contributors; the offer "
            f"said {transfer.records} of {transfer.contributors}"
        )
    return contributors, records, spec


def _moment(value: object) -> datetime:
    moment = moment_of(value)
    if moment is None:
        raise PackageInvalid(f"{value!r} is not a time with its zone")
    return moment
