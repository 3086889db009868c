"""Peer trusts: pinning one, and syncing its signed catalog (invariant 7: a peer's document is
used only after its proof verifies against the key a steward pinned).

A sync pulls the pages changed since the peer's cursor. Each page is fetched from the peer's
own origin only, checked (size, depth, our context and nothing else, a page about this peer,
the page asked for, not older than the last one accepted), its proofs verified, and then
applied in one transaction with the new cursor. Anything wrong stops the sync with a reason a
steward can read, recorded on the peer; what was applied before stays (the last good state).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from cltd.adapters import dataintegrity, jsonld, proofset
from cltd.adapters.peerhttp import PeerFetcher, PeerFetchError
from cltd.config import Settings
from cltd.models import Peer, PeerDataset, PeerDecision
from cltd.rules.codes import Code
from cltd.services import audit, decisions
from cltd.services.audit import AuditAction
from cltd.services.catalog import CONTEXT_PATH, DATA_INTEGRITY, language_code
from cltd.services.errors import Conflict, InvalidInput, NotFound

LEASE = timedelta(minutes=10)
MAX_PAGES = 100_000  # a peer that never stops paging is broken, not big


class PeerRefused(Exception):
    """A peer's answer was not used. `reason` is stable; `detail` is for the steward."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Introduction:
    """What a peer says about itself, verified against the key in its DID document."""

    origin: str
    did: str
    name: str
    key_multibase: str
    fingerprint: str
    description: dict[str, Any]


def origin_of(url: str) -> str:
    try:
        return jsonld.origin_of(url)
    except ValueError:
        raise InvalidInput(Code.PEER_URL_INVALID, "url") from None


def fingerprint(key_multibase: str) -> str:
    """What a steward compares with the peer's steward, out of band: SHA-256 of the key."""
    try:
        raw = dataintegrity.public_key_from_multikey(key_multibase).public_bytes_raw()
    except (ValueError, dataintegrity.ProofError):
        raise PeerRefused("no-key", "The peer's DID document publishes no usable key.") from None
    digest = hashlib.sha256(raw).hexdigest().upper()
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def did_web(origin: str) -> str:
    return "did:web:" + urlsplit(origin).netloc.replace(":", "%3A")


def _fetch(fetcher: PeerFetcher, url: str) -> bytes:
    try:
        return fetcher.get(url).body
    except PeerFetchError as error:
        raise PeerRefused(error.reason, str(error)) from None


def _document(raw: bytes) -> dict[str, Any]:
    try:
        document = jsonld.parse_document(raw)
    except jsonld.JsonLdRefused as error:
        raise PeerRefused(error.reason, str(error)) from None
    if not isinstance(document, dict):
        raise PeerRefused("not-json-ld", "The peer's answer is not a JSON-LD document.")
    return document


def _expect_contexts(document: dict[str, Any], origin: str) -> None:
    """Our vocabulary and nothing else: then every key means what our context says."""
    if document.get("@context") != [origin + CONTEXT_PATH, DATA_INTEGRITY]:
        raise PeerRefused(
            "unexpected-context",
            "The document uses JSON-LD contexts this trust does not know; it was not read.",
        )


def verify(document: dict[str, Any], key_multibase: str, did: str, origin: str) -> datetime:
    """Every proof on DOCUMENT verifies with the pinned key, by the peer's DID: when signed."""
    proofs = document.get("proof")
    proof_list = proofs if isinstance(proofs, list) else [proofs] if proofs else []
    if not proof_list:
        raise PeerRefused("unsigned", "The document carries no signature.")
    for proof in proof_list:
        method = proof.get("verificationMethod") if isinstance(proof, dict) else None
        if not isinstance(method, str) or not method.startswith(did + "#"):
            raise PeerRefused(
                "wrong-signer", "The document is signed by someone other than this peer."
            )
    try:
        key = dataintegrity.public_key_from_multikey(key_multibase)
        created = proofset.verify_document(document, key, origins=[origin])
    except jsonld.JsonLdRefused as error:
        raise PeerRefused(error.reason, str(error)) from None
    except dataintegrity.ProofError as error:
        raise PeerRefused(
            "bad-signature",
            f"The signature does not verify with the pinned key ({error}).",
        ) from None
    return created


def read_signed(raw: bytes) -> dict[str, Any]:
    """Parse a message from a peer (an offer, an acceptance) within the JSON-LD limits."""
    return _document(raw)


def check_message(document: dict[str, Any], peer: Peer) -> datetime:
    """A message PEER sent us is in our vocabulary and every proof verifies with the key we
    pinned for it. When it was signed."""
    _expect_contexts(document, peer.origin)
    return verify(document, peer.key_multibase, peer.did, peer.origin)


def introduce(fetcher: PeerFetcher, url: str) -> Introduction:
    """Fetch a peer's DID document and description and check they agree, before pinning."""
    origin = origin_of(url)
    did = did_web(origin)
    did_document = _document(_fetch(fetcher, origin + "/.well-known/did.json"))
    if did_document.get("id") != did:
        raise PeerRefused("wrong-did", f"The DID document at {origin} is not for {did}.")
    methods = [
        m
        for m in did_document.get("verificationMethod", [])
        if isinstance(m, dict) and m.get("id") in did_document.get("assertionMethod", [])
    ]
    if not methods or not isinstance(methods[0].get("publicKeyMultibase"), str):
        raise PeerRefused("no-key", "The peer's DID document publishes no signing key.")
    key = methods[0]["publicKeyMultibase"]
    description = _document(_fetch(fetcher, origin + "/federation/trust"))
    _expect_contexts(description, origin)
    verify(description, key, did, origin)
    if description.get("id") != origin + "/federation/trust" or description.get("did") != did:
        raise PeerRefused("wrong-trust", "The description is about another trust.")
    name = description.get("name")
    return Introduction(
        origin=origin,
        did=did,
        name=name if isinstance(name, str) else origin,
        key_multibase=key,
        fingerprint=fingerprint(key),
        description=description,
    )


def pin(session: Session, intro: Introduction, *, actor: str, at: datetime) -> Peer:
    if session.scalar(select(Peer.id).where(Peer.origin == intro.origin)) is not None:
        raise Conflict(Code.PEER_ALREADY_PINNED, "url")
    peer = Peer(
        origin=intro.origin,
        did=intro.did,
        name=intro.name[:300],
        key_multibase=intro.key_multibase,
        description=intro.description,
        added_at=at,
        cursor=0,
        datasets_held=0,
    )
    session.add(peer)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PEER_PINNED,
        subject=f"peer:{peer.id}",
        at=at,
        details={"origin": peer.origin, "did": peer.did, "key": peer.key_multibase},
    )
    return peer


def list_peers(session: Session) -> list[Peer]:
    return list(session.scalars(select(Peer).order_by(Peer.name)))


def find_peer(session: Session, name_or_origin: str) -> Peer:
    peer = session.scalar(
        select(Peer).where(
            or_(Peer.origin == name_or_origin.rstrip("/"), Peer.name == name_or_origin)
        )
    )
    if peer is None:
        raise NotFound(Code.PEER_UNKNOWN, "peer")
    return peer


def find_peer_by_id(session: Session, peer_id: int) -> Peer:
    peer = session.get(Peer, peer_id)
    if peer is None:
        raise NotFound(Code.PEER_UNKNOWN, "peer_id")
    return peer


def request_sync(session: Session, peer_id: int, *, actor: str, at: datetime) -> Peer:
    """Make the peer due now: the next worker round syncs it."""
    peer = find_peer_by_id(session, peer_id)
    peer.last_attempt_at = None
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PEER_SYNC_REQUESTED,
        subject=f"peer:{peer.id}",
        at=at,
    )
    return peer


# --- syncing ----------------------------------------------------------------------------------


def claim(
    sessions: sessionmaker[Session],
    peer_id: int,
    owner: str,
    at: datetime,
    *,
    attempted_before: datetime | None = None,
) -> bool:
    """Take the peer's sync lease (one conditional UPDATE), so two workers never sync it at
    once; a lease left by a crashed worker runs out after LEASE. With ATTEMPTED_BEFORE, only
    a peer still due is taken (another worker may have just synced it)."""
    conditions = [Peer.id == peer_id, or_(Peer.lease_until.is_(None), Peer.lease_until < at)]
    if attempted_before is not None:
        conditions.append(
            or_(Peer.last_attempt_at.is_(None), Peer.last_attempt_at <= attempted_before)
        )
    with sessions.begin() as session:
        taken = session.execute(
            update(Peer).where(*conditions).values(lease_until=at + LEASE, lease_owner=owner)
        )
        return taken.rowcount == 1


def release(sessions: sessionmaker[Session], peer_id: int, owner: str) -> None:
    with sessions.begin() as session:
        session.execute(
            update(Peer)
            .where(Peer.id == peer_id, Peer.lease_owner == owner)
            .values(lease_until=None, lease_owner=None)
        )


@dataclass(frozen=True)
class SyncResult:
    pages: int
    applied: int
    refused: PeerRefused | None


def _check_page(
    page: dict[str, Any], peer: Peer, since: int, signed_at: datetime
) -> tuple[list[dict[str, Any]], int, str | None]:
    origin = peer.origin
    if page.get("id") != f"{origin}/federation/catalog?since={since}":
        raise PeerRefused(
            "wrong-page", "The peer answered with another page than the one asked for."
        )
    if _id_of(page.get("publisher")) != origin + "/federation/trust":
        raise PeerRefused("wrong-trust", "The page describes another trust's catalog.")
    if peer.last_signed_at is not None and signed_at < peer.last_signed_at:
        raise PeerRefused(
            "replayed-page",
            "The page was signed before the last page accepted from this peer: a replay.",
        )
    datasets = page.get("dataset", [])
    cursor = page.get("cursor")
    if not isinstance(datasets, list) or not isinstance(cursor, int) or cursor < since:
        raise PeerRefused("not-a-catalog", "The page is not a catalog page this trust can read.")
    for node in datasets:
        seq = node.get("changeSeq") if isinstance(node, dict) else None
        iri = node.get("id") if isinstance(node, dict) else None
        if not isinstance(seq, int) or not since < seq <= cursor:
            raise PeerRefused("not-a-catalog", "A dataset on the page is out of order.")
        if not isinstance(iri, str) or not iri.startswith(origin + "/"):
            raise PeerRefused("wrong-trust", "A dataset on the page belongs to another trust.")
    following = page.get("next")
    if following is not None and following != f"{origin}/federation/catalog?since={cursor}":
        raise PeerRefused("wrong-page", "The page points to a next page elsewhere.")
    return datasets, cursor, following


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _language_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _purposes(node: dict[str, Any]) -> list[str]:
    policy = node.get("hasPolicy")
    if not isinstance(policy, dict):
        return []
    found = []
    for permission in policy.get("permission", []) or []:
        for constraint in (permission or {}).get("constraint", []) or []:
            if isinstance(constraint, dict) and isinstance(constraint.get("rightOperand"), str):
                found.append(constraint["rightOperand"])
    return sorted(set(found))


def _apply(session: Session, peer: Peer, datasets: list[dict[str, Any]], at: datetime) -> None:
    for node in datasets:
        row = session.scalar(
            select(PeerDataset).where(PeerDataset.peer_id == peer.id, PeerDataset.iri == node["id"])
        )
        if row is None:
            row = PeerDataset(peer_id=peer.id, iri=node["id"])
            session.add(row)
        elif row.change_seq >= node["changeSeq"]:
            continue  # never go back to an older version of a dataset
        access = None
        for distribution in node.get("distribution", []) or []:
            if isinstance(distribution, dict) and isinstance(distribution.get("accessURL"), str):
                access = distribution["accessURL"]
        try:
            modified = datetime.fromisoformat(str(node.get("modified")))
        except ValueError:
            modified = at
        status = node.get("custodyStatus")
        row.change_seq = node["changeSeq"]
        row.modified = modified if modified.tzinfo else modified.replace(tzinfo=at.tzinfo)
        row.title = _language_map(node.get("title"))
        row.description = _language_map(node.get("description"))
        row.keywords = _strings(node.get("keyword"))
        languages = node.get("language") if isinstance(node.get("language"), list) else []
        row.languages = sorted({c for c in map(language_code, languages) if c})
        row.purposes = _purposes(node)
        row.asset_locked = node.get("assetLocked") is True
        row.status = status if status in ("held", "transferred", "retired") else "held"
        row.custodian = str(node["custodian"])[:300] if node.get("custodian") else None
        row.decision = str(node["decision"])[:500] if node.get("decision") else None
        row.access_url = access[:500] if access else None
        row.document = node
        row.updated_at = at


def sync(
    sessions: sessionmaker[Session],
    fetcher: PeerFetcher,
    peer_id: int,
    *,
    clock: Callable[[], datetime],
    progress: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Pull every page changed since the peer's cursor; each page verified, then applied in one
    transaction with the cursor. The caller holds the peer's lease."""
    pages = applied = 0
    refused: PeerRefused | None = None
    with sessions() as session:
        peer = session.get(Peer, peer_id)
        if peer is None:
            raise NotFound(Code.PEER_UNKNOWN, "peer")
        origin, cursor = peer.origin, peer.cursor
    try:
        for datasets, new_cursor, signed_at in _pages(
            sessions, fetcher, peer_id, origin, cursor, clock
        ):
            with sessions.begin() as session:
                peer = session.get(Peer, peer_id, with_for_update=True)
                assert peer is not None
                _apply(session, peer, datasets, clock())
                peer.cursor = new_cursor
                peer.last_signed_at = signed_at
                session.flush()
                peer.datasets_held = (
                    session.scalar(
                        select(func.count())
                        .select_from(PeerDataset)
                        .where(PeerDataset.peer_id == peer.id, PeerDataset.status == "held")
                    )
                    or 0
                )
            pages += 1
            applied += len(datasets)
            if progress is not None:
                progress(pages, applied)
        _sync_decisions(sessions, fetcher, peer_id, clock)
    except PeerRefused as error:
        refused = error
    with sessions.begin() as session:
        peer = session.get(Peer, peer_id)
        assert peer is not None
        peer.last_attempt_at = clock()
        if refused is None:
            peer.last_good_at = peer.last_attempt_at
            peer.last_error_code = peer.last_error_detail = None
        else:
            peer.last_error_code, peer.last_error_detail = refused.reason, refused.detail
        audit.record(
            session,
            actor="system",
            action=AuditAction.PEER_SYNCED if refused is None else AuditAction.PEER_REFUSED,
            subject=f"peer:{peer.id}",
            at=peer.last_attempt_at,
            details={
                "pages": pages,
                "datasets": applied,
                "cursor": peer.cursor,
                "reason": refused.reason if refused else None,
            },
        )
    return SyncResult(pages, applied, refused)


def _snapshot(sessions: sessionmaker[Session], peer_id: int) -> Peer:
    with sessions() as session:
        peer = session.get(Peer, peer_id)
        assert peer is not None
        session.expunge(peer)
        session.rollback()
    return peer


def _pages(
    sessions: sessionmaker[Session],
    fetcher: PeerFetcher,
    peer_id: int,
    origin: str,
    since: int,
    clock: Callable[[], datetime],
) -> Iterator[tuple[list[dict[str, Any]], int, datetime]]:
    for _ in range(MAX_PAGES):
        # No database session is held while the peer is fetched and checked (it may be slow).
        peer = _snapshot(sessions, peer_id)
        page = _document(_fetch(fetcher, f"{origin}/federation/catalog?since={since}"))
        _expect_contexts(page, origin)
        try:
            signed_at = verify(page, peer.key_multibase, peer.did, origin)
        except PeerRefused:
            rotated = _rotated_key(fetcher, peer, page)
            if rotated is None:
                raise
            signed_at = verify(page, rotated, peer.did, origin)
            _accept_rotation(sessions, peer_id, rotated, clock())
        datasets, cursor, following = _check_page(page, peer, since, signed_at)
        yield datasets, cursor, signed_at
        if following is None:
            return
        since = cursor
    raise PeerRefused("too-many-pages", "The peer's catalog never ends; the sync stopped.")


def _check_decision_page(
    page: dict[str, Any], peer: Peer, since: int
) -> tuple[list[dict[str, Any]], int, str | None]:
    origin = peer.origin
    if page.get("id") != f"{origin}/federation/decisions?since={since}":
        raise PeerRefused(
            "wrong-page", "The peer answered with another page than the one asked for."
        )
    if _id_of(page.get("publisher")) != origin + "/federation/trust":
        raise PeerRefused("wrong-trust", "The page describes another trust's decisions.")
    records, cursor = page.get("decision", []), page.get("cursor")
    if not isinstance(records, list) or not isinstance(cursor, int) or cursor < since:
        raise PeerRefused("not-a-catalog", "The page is not a list of decisions.")
    for record in records:
        seq = record.get("auditSeq") if isinstance(record, dict) else None
        iri = record.get("id") if isinstance(record, dict) else None
        if not isinstance(seq, int) or not since < seq <= cursor:
            raise PeerRefused("not-a-catalog", "A decision on the page is out of order.")
        if not isinstance(iri, str) or not iri.startswith(origin + "/federation/decisions/"):
            raise PeerRefused("wrong-trust", "A decision on the page belongs to another trust.")
        try:
            decisions.check_record(record)
        except decisions.RecountRefused as refused:
            raise PeerRefused(
                "recount",
                f"A decision record does not add up: {refused}. Nothing from it was used.",
            ) from None
    following = page.get("next")
    if following is not None and following != f"{origin}/federation/decisions?since={cursor}":
        raise PeerRefused("wrong-page", "The page points to a next page elsewhere.")
    return records, cursor, following


def _sync_decisions(
    sessions: sessionmaker[Session],
    fetcher: PeerFetcher,
    peer_id: int,
    clock: Callable[[], datetime],
) -> None:
    """The peer's decision records after its decision cursor: verified, recounted, kept."""
    for _ in range(MAX_PAGES):
        peer = _snapshot(sessions, peer_id)
        since = peer.decision_cursor
        url = f"{peer.origin}/federation/decisions?since={since}"
        page = _document(_fetch(fetcher, url))
        _expect_contexts(page, peer.origin)
        verify(page, peer.key_multibase, peer.did, peer.origin)
        records, cursor, following = _check_decision_page(page, peer, since)
        with sessions.begin() as session:
            stored = session.get(Peer, peer_id, with_for_update=True)
            assert stored is not None
            for record in records:
                row = session.scalar(
                    select(PeerDecision).where(
                        PeerDecision.peer_id == peer_id, PeerDecision.iri == record["id"]
                    )
                ) or PeerDecision(peer_id=peer_id, iri=record["id"])
                session.add(row)
                row.audit_seq = record["auditSeq"]
                row.kind = str(record.get("proposalKind", ""))[:20]
                row.outcome = str(record["outcome"])
                row.subject = str(record["subject"])[:500] if record.get("subject") else None
                row.recipient = str(record["recipient"])[:300] if record.get("recipient") else None
                row.document = record
                row.received_at = clock()
            stored.decision_cursor = cursor
        if following is None:
            return
    raise PeerRefused("too-many-pages", "The peer's decisions never end; the sync stopped.")


MAX_ROTATIONS = 20


def _signer_key(document: dict[str, Any], did: str) -> str | None:
    proofs = document.get("proof")
    first = proofs[0] if isinstance(proofs, list) and proofs else proofs
    method = first.get("verificationMethod") if isinstance(first, dict) else None
    if isinstance(method, str) and method.startswith(did + "#"):
        return method.removeprefix(did + "#")
    return None


def _rotated_key(fetcher: PeerFetcher, peer: Peer, page: dict[str, Any]) -> str | None:
    """The key the page is signed with, if a chain of statements, each signed by the key
    before it and the first by the key we pinned, leads there; else None (never silently)."""
    signer = _signer_key(page, peer.did)
    if signer is None or signer == peer.key_multibase:
        return None
    listing = _document(_fetch(fetcher, f"{peer.origin}/federation/key-rotations"))
    statements = listing.get("rotations")
    if not isinstance(statements, list):
        return None
    current = peer.key_multibase
    for _ in range(MAX_ROTATIONS):
        step = next(
            (
                s
                for s in statements
                if isinstance(s, dict)
                and s.get("previousKey") == current
                and s.get("did") == peer.did
                and s.get("type") == "KeyRotation"
            ),
            None,
        )
        if step is None:
            return None
        _expect_contexts(step, peer.origin)
        verify(step, current, peer.did, peer.origin)  # signed by the key we trust so far
        current = str(step.get("nextKey"))
        if current == signer:
            return current
    return None


def _accept_rotation(sessions: sessionmaker[Session], peer_id: int, key: str, at: datetime) -> None:
    with sessions.begin() as session:
        peer = session.get(Peer, peer_id, with_for_update=True)
        assert peer is not None
        previous, peer.key_multibase = peer.key_multibase, key
        audit.record(
            session,
            actor="system",
            action=AuditAction.PEER_KEY_ROTATED,
            subject=f"peer:{peer.id}",
            at=at,
            details={"previous": previous, "next": key},
        )


def search(
    session: Session,
    *,
    keyword: str | None = None,
    language: str | None = None,
    purpose_iris: frozenset[str] | None = None,
) -> list[tuple[Peer, PeerDataset]]:
    """Datasets held by pinned peers. PURPOSE_IRIS: the purpose asked for and its ancestors
    (a permission for a broader purpose covers it)."""
    rows = session.execute(
        select(Peer, PeerDataset)
        .join(PeerDataset, PeerDataset.peer_id == Peer.id)
        .where(PeerDataset.status == "held")
        .order_by(Peer.name, PeerDataset.iri)
    ).all()
    found = []
    for peer, dataset in rows:
        words = " ".join(
            [*dataset.title.values(), *dataset.description.values(), *dataset.keywords]
        )
        if keyword and keyword.lower() not in words.lower():
            continue
        if language and language not in dataset.languages:
            continue
        if purpose_iris and not purpose_iris & set(dataset.purposes):
            continue
        found.append((peer, dataset))
    return found


def fetcher_for(settings: Settings) -> PeerFetcher:
    """The fetcher the trust's settings ask for (loopback only where a setting allows it)."""
    return make_fetcher(
        allow_loopback=settings.allow_loopback_peers,
        timeout=settings.peer_timeout,
        max_bytes=settings.peer_max_bytes,
    )


def make_fetcher(*, allow_loopback: bool, timeout: float, max_bytes: int) -> PeerFetcher:
    return PeerFetcher(
        allow_loopback=allow_loopback,
        connect_timeout=timeout,
        read_timeout=timeout,
        total_timeout=timeout * 3,
        max_bytes=max_bytes,
    )


def sync_due(
    sessions: sessionmaker[Session],
    fetcher: PeerFetcher,
    *,
    owner: str,
    clock: Callable[[], datetime],
    every: timedelta,
) -> list[SyncResult]:
    """One worker round: sync each peer whose last attempt is older than EVERY, holding its
    lease (a peer another worker is syncing is skipped)."""
    with sessions() as session:
        due = [
            p.id
            for p in list_peers(session)
            if p.last_attempt_at is None or p.last_attempt_at + every <= clock()
        ]
    results = []
    for peer_id in due:
        moment = clock()
        if not claim(sessions, peer_id, owner, moment, attempted_before=moment - every):
            continue
        try:
            results.append(sync(sessions, fetcher, peer_id, clock=clock))
        finally:
            release(sessions, peer_id, owner)
    return results
