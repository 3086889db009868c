"""The worker's part of a transfer: each step a message to the other trust, each resumable.

Every step reads the transfer's state first and does only what is left, so a worker killed at
any point, or a message lost either way, is finished by the next attempt: the offer is sent
again (the recipient answers a repeated offer the same way), the records fetched and staged
again, the acceptance sent again (the sender answers a repeated acceptance with the receipt it
kept). Custody moves only in the sender's custody.hand_over; the recipient serves the asset
only from its receipt.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cltd.adapters import crashpoints
from cltd.adapters.clock import now
from cltd.adapters.keys import load_signing_key
from cltd.adapters.peerhttp import PeerFetcher, PeerFetchError, PeerResponse
from cltd.adapters.trustsigner import TrustSigner
from cltd.adapters.vault import KeyRing
from cltd.config import Settings
from cltd.db import session_scope
from cltd.models import Direction, TransferState
from cltd.rules.bylaws import Bylaws
from cltd.rules.codes import Code
from cltd.services import custody, peers, rulebook, transfers, transfers_in
from cltd.services.outbox import Claimed

KINDS = ("transfer.offer", "transfer.accept", "transfer.refuse")
_GIVE_UP = (Code.TRANSFER_EXPIRED.value, Code.TRANSFER_NOT_OPEN.value, Code.TRANSFER_REPLAYED.value)


class Exchange:
    """What a worker needs to carry transfers forward: the database, the way to peers, the
    trust's key (messages are signed with it), its data keys, and the bylaws in force."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        fetcher: PeerFetcher,
        key: Ed25519PrivateKey,
        ring: KeyRing,
        *,
        trust_name: str,
        bylaws: Callable[[Session], Bylaws],
        clock: Callable[[], datetime],
        package_fetcher: PeerFetcher | None = None,
    ) -> None:
        self.sessions, self.fetcher, self.key, self.ring = sessions, fetcher, key, ring
        self.trust_name, self.bylaws, self.clock = trust_name, bylaws, clock
        self.package_fetcher = package_fetcher or fetcher

    @classmethod
    def for_trust(
        cls,
        settings: Settings,
        sessions: sessionmaker[Session],
        founding: Bylaws,
        *,
        fetcher: PeerFetcher | None = None,
        clock: Callable[[], datetime] = now,
    ) -> Exchange:
        """The exchange of the trust in SETTINGS' data directory, under the bylaws in force."""
        package_fetcher = peers.make_fetcher(
            allow_loopback=settings.allow_loopback_peers,
            timeout=settings.transfer_timeout,
            max_bytes=settings.transfer_max_bytes,
        )
        return cls(
            sessions,
            fetcher or peers.fetcher_for(settings),
            load_signing_key(settings.signing_key_path),
            KeyRing(settings.data_dir / "keys"),
            trust_name=settings.trust_name,
            bylaws=lambda session: rulebook.in_force(session, founding),
            clock=clock,
            package_fetcher=package_fetcher,
        )

    def deliver(self, job: Claimed) -> str | None:
        """Do one outbox job; None when it is done (or can never be), else why to retry."""
        transfer_id = str(job.payload.get("transfer", ""))
        try:
            if job.kind == "transfer.offer":
                return self._send_offer(transfer_id)
            if job.kind == "transfer.accept":
                return self._complete_incoming(transfer_id)
            return self._send_refusal(transfer_id, str(job.payload.get("reason", "")))
        except PeerFetchError as error:
            return str(error)

    # --- the offering side ----------------------------------------------------------------

    def _send_offer(self, transfer_id: str) -> str | None:
        with session_scope(self.sessions) as session:
            transfer = transfers.get_transfer(session, transfer_id, Direction.OUTGOING)
            if transfer.state != TransferState.OFFERED:
                return None
            if not transfer.offer:
                at = self.clock()
                document = transfers.offer_document(
                    session, transfer, self.bylaws(session), self.trust_name
                )
                # Signed once and kept: every resend is the very same offer.
                transfer.offer = TrustSigner(transfer.our_base, self.key).sign(document, at)
            offer, target = dict(transfer.offer), transfer.peer.origin + transfers.OFFER_PATH
        crashpoints.reached("offer.before_send")
        answer = self.fetcher.post_json(target, offer)
        if answer.status < 300:
            return None
        if answer.status >= 500:
            return f"the other trust answered HTTP {answer.status}"
        code, detail = _problem(answer)
        if code == Code.TRANSFER_REPLAYED:
            return None  # the other trust already settled this very offer
        if not code.startswith("transfer."):
            # Not the other trust's answer about this offer (a proxy's 404, a 429, a 413):
            # the board's decision stands; try again later.
            return f"the other trust answered HTTP {answer.status} {detail or code}".strip()
        with session_scope(self.sessions) as session:
            transfer = transfers.get_transfer(session, transfer_id, Direction.OUTGOING, lock=True)
            transfers.settle_outgoing(
                session,
                transfer,
                code=code,
                reason=detail,
                actor=f"peer:{transfer.peer_id}",
                at=self.clock(),
            )
        return None

    # --- the receiving side ---------------------------------------------------------------

    def _complete_incoming(self, transfer_id: str) -> str | None:
        for _ in range(3):  # a package that changed under us is fetched again, a few times
            with session_scope(self.sessions) as session:
                transfer = transfers.get_transfer(session, transfer_id, Direction.INCOMING)
                state, base = transfer.state, transfer.our_base
                origin = transfer.peer.origin
            if state == TransferState.ACCEPTED:
                error = self._fetch_and_stage(transfer_id, base, origin)
                if error is not None:
                    return error
                continue
            if state != TransferState.STAGED:
                return None  # completed, refused or expired: nothing left to do
            outcome = self._accept_staged(transfer_id, base, origin)
            if outcome != "again":
                return outcome
        return "the other trust's records kept changing; trying again later"

    def _fetch_and_stage(self, transfer_id: str, base: str, origin: str) -> str | None:
        at = self.clock()
        request = self._sign(base, "PackageRequest", transfer_id, at, requestedAt=at.isoformat())
        answer = self.package_fetcher.post_json(_url(origin, transfer_id, "package"), request)
        if answer.status >= 300:
            return self._answer_refused(transfer_id, answer)
        crashpoints.reached("accept.fetched")
        try:
            package = answer.json()
        except PeerFetchError:
            package = None
        if not isinstance(package, dict):
            return "the other trust's records are not readable JSON"
        with session_scope(self.sessions) as session:
            transfer = transfers.get_transfer(session, transfer_id, Direction.INCOMING, lock=True)
            if transfer.state != TransferState.ACCEPTED:
                return None
            try:
                transfers_in.stage(
                    session,
                    self.ring,
                    self.bylaws(session),
                    transfer,
                    package,
                    package_digest=transfers.digest(package),
                    at=self.clock(),
                )
            except transfers_in.PackageInvalid as invalid:
                session.rollback()
                self._refuse_invalid(transfer_id, str(invalid))
                return None
            except IntegrityError:
                # What the checks cannot see (a value the database refuses): the package is
                # refused as it is, never half written.
                session.rollback()
                self._refuse_invalid(transfer_id, "the database refused part of it")
                return None
        crashpoints.reached("accept.staged")
        return None

    def _refuse_invalid(self, transfer_id: str, problem: str) -> None:
        with session_scope(self.sessions) as session:
            transfer = transfers.get_transfer(session, transfer_id, Direction.INCOMING, lock=True)
            transfers_in.tell_sender_no(
                session,
                transfer,
                Code.TRANSFER_PACKAGE_INVALID.value,
                problem,
                actor="system:worker",
                at=self.clock(),
            )

    def _accept_staged(self, transfer_id: str, base: str, origin: str) -> str | None:
        with session_scope(self.sessions) as session:
            digest = transfers.get_transfer(session, transfer_id, Direction.INCOMING).package_digest
        at = self.clock()
        acceptance = self._sign(
            base,
            "TransferAcceptance",
            transfer_id,
            at,
            packageDigest=digest,
            acceptedAt=at.isoformat(),
        )
        answer = self.fetcher.post_json(_url(origin, transfer_id, "acceptance"), acceptance)
        if answer.status >= 300:
            code, _detail = _problem(answer)
            if answer.status == 409 and code == Code.TRANSFER_PACKAGE_CHANGED:
                with session_scope(self.sessions) as session:
                    transfer = transfers.get_transfer(
                        session, transfer_id, Direction.INCOMING, lock=True
                    )
                    transfers_in.unstage(session, transfer)
                    transfer.state = TransferState.ACCEPTED
                return "again"
            return self._answer_refused(transfer_id, answer)
        with session_scope(self.sessions) as session:
            transfer = transfers.get_transfer(session, transfer_id, Direction.INCOMING, lock=True)
            try:
                receipt = peers.read_signed(answer.body)
                peers.check_message(receipt, transfer.peer)
            except peers.PeerRefused as refused:
                return f"the other trust's receipt does not verify: {refused.detail}"
            if (
                receipt.get("type") != "TransferReceipt"
                or receipt.get("transferId") != transfer_id
                or receipt.get("packageDigest") != digest
                or receipt.get("custodian") != transfers.agent_of(base)
            ):
                return "the other trust's receipt is not for what we accepted"
            crashpoints.reached("receipt.verified")
            custody.receive(session, transfer, receipt, self.clock())
        return None

    def _answer_refused(self, transfer_id: str, answer: PeerResponse) -> str | None:
        """A 4xx that settles the transfer ends it here too; anything else is retried."""
        if answer.status >= 500:
            return f"the other trust answered HTTP {answer.status}"
        code, detail = _problem(answer)
        if code not in _GIVE_UP:
            return f"the other trust refused the message: {detail or code}"
        with session_scope(self.sessions) as session:
            transfer = transfers.get_transfer(session, transfer_id, Direction.INCOMING, lock=True)
            if transfer.state in (TransferState.ACCEPTED, TransferState.STAGED):
                transfers_in.end(
                    session,
                    transfer,
                    code,
                    detail or code,
                    actor=f"peer:{transfer.peer_id}",
                    at=self.clock(),
                )
        return None

    def _send_refusal(self, transfer_id: str, reason: str) -> str | None:
        with session_scope(self.sessions) as session:
            transfer = transfers.get_transfer(session, transfer_id, Direction.INCOMING)
            base, origin, code = transfer.our_base, transfer.peer.origin, transfer.reason_code
        at = self.clock()
        message = self._sign(
            base, "TransferRefusal", transfer_id, at, reasonCode=code or "refused", reason=reason
        )
        answer = self.fetcher.post_json(_url(origin, transfer_id, "refusal"), message)
        if answer.status >= 500:
            return f"the other trust answered HTTP {answer.status}"
        return None  # 2xx, or a 4xx saying it was already settled: nothing more to say

    # --- signing ---------------------------------------------------------------------------

    def _sign(
        self, base: str, kind: str, transfer_id: str, at: datetime, **fields: Any
    ) -> dict[str, Any]:
        return TrustSigner(base, self.key).sign(
            transfers.message(base, kind, transfer_id, at, **fields), at
        )


def _url(origin: str, transfer_id: str, step: str) -> str:
    return f"{origin}/federation/transfers/{transfer_id}/{step}"


def _problem(answer: PeerResponse) -> tuple[str, str]:
    """The code and detail of a refusal's problem+json body (empty when there is none)."""
    try:
        body = answer.json()
    except PeerFetchError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("code") or ""), str(body.get("detail") or "")[:500]
