"""/api/v1 for the board: proposals and ballots, seats, elections and the licence ledger.

GET  /proposals                     board:read      every proposal, status evaluated now
POST /proposals                     board:write     a seat holder or steward drafts one
GET  /proposals/<id>                board:read      text, per-class tallies, time left
POST /proposals/<id>/open           board:write     the author (or a steward) opens the vote
PUT  /proposals/<id>/ballot         proposals:vote  yes / no / abstain, changeable until close
POST /proposals/<id>/execute        board:write     carry out a passed proposal, once
POST /proposals/<id>/payments       board:write     a steward records a licence payment
GET  /ledger                        board:read      payments and how each was shared
GET  /seats                         board:read      seats, holders and terms
PUT  /seats/<class>/<number>        board:write     a steward gives a seat, with a term
GET  /elections, /elections/<id>    board:read
POST /elections/<id>/votes          proposals:vote  one vote per member of the class
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import Member
from cltd.rules.bylaws import ProposalKind
from cltd.rules.codes import Code
from cltd.rules.roles import Permission, Scope
from cltd.rules.tally import Ballot
from cltd.services import assets as asset_service
from cltd.services import custody, governance, ledger, members
from cltd.services import elections as election_service
from cltd.services import seats as seat_service
from cltd.services.errors import NotFound
from cltd.web.api import bp
from cltd.web.api.callers import member_caller, require
from cltd.web.board_view import election_view, proposal_view
from cltd.web.identity import trust_base
from cltd.web.inputs import json_body, parse_time
from cltd.web.oauth.resource import api_access
from cltd.web.state import db, state, writes


@bp.get("/proposals")
@api_access(Scope.BoardRead)
def list_proposals() -> Response:
    member, at = member_caller(), now()
    return jsonify(
        proposals=[proposal_view(db(), p, member, at) for p in governance.list_proposals(db())]
    )


@bp.post("/proposals")
@api_access(Scope.BoardWrite)
def draft_proposal() -> tuple[Response, int]:
    member = require(Permission.ProposalsDraft, Code.BOARD_ONLY)
    body = json_body("proposal.schema.json")
    asset = None
    if "asset_id" in body:
        asset = asset_service.get_held(db(), body["asset_id"])
    at = now()
    proposal = governance.propose(
        db(),
        state().bylaws,
        author=member,
        kind=ProposalKind(body["kind"]),
        title=body["title"],
        text=body.get("text", ""),
        at=at,
        asset=asset,
        recipient=body.get("recipient"),
        recipient_locked=body.get("recipient_locked", False),
        access_request_id=body.get("access_request_id"),
        bylaws_text=body.get("bylaws_text"),
        recipient_peer_id=body.get("recipient_peer_id"),
    )
    return jsonify(proposal_view(db(), proposal, member, at)), 201


@bp.get("/proposals/<int:proposal_id>")
@api_access(Scope.BoardRead)
def get_proposal(proposal_id: int) -> Response:
    member = member_caller()
    return jsonify(proposal_view(db(), governance.get_proposal(db(), proposal_id), member, now()))


@bp.post("/proposals/<int:proposal_id>/open")
@api_access(Scope.BoardWrite)
def open_proposal(proposal_id: int) -> Response:
    member = require(Permission.ProposalsDraft, Code.BOARD_ONLY)
    at = now()
    proposal = governance.get_locked(db(), proposal_id)
    governance.open_voting(
        db(), state().bylaws, proposal, actor=members.actor_of(member), at=at, by=member
    )
    return jsonify(proposal_view(db(), proposal, member, at))


@bp.put("/proposals/<int:proposal_id>/ballot")
@api_access(Scope.ProposalsVote)
def cast_ballot(proposal_id: int) -> Response:
    member = member_caller()
    body = json_body("ballot.schema.json")
    at = now()
    governance.cast(db(), proposal_id, member=member, choice=Ballot(body["choice"]), at=at)
    return jsonify(proposal_view(db(), governance.get_proposal(db(), proposal_id), member, at))


@bp.post("/proposals/<int:proposal_id>/execute")
@api_access(Scope.BoardWrite)
def execute_proposal(proposal_id: int) -> Response:
    member = require(Permission.ProposalsExecute, Code.BOARD_ONLY)
    at = now()
    proposal = custody.execute(
        db(),
        proposal_id,
        actor=members.actor_of(member),
        at=at,
        bylaws=state().bylaws,
        our_base=trust_base(),
    )
    return jsonify(proposal_view(db(), proposal, member, at))


@bp.post("/proposals/<int:proposal_id>/payments")
@api_access(Scope.BoardWrite)
def record_payment(proposal_id: int) -> tuple[Response, int]:
    member = require(Permission.PaymentsRecord)
    body = json_body("payment.schema.json")
    payment = ledger.record_payment(
        db(),
        state().bylaws,
        proposal_id,
        amount_cents=ledger.cents(body["amount"]),
        currency=state().settings.currency,
        note=body.get("note", ""),
        actor=members.actor_of(member),
        at=now(),
    )
    shares = ledger.shares_of_payment(db(), payment.id)
    return jsonify(
        id=payment.id,
        proposal_id=proposal_id,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        commons_cents=payment.commons_cents,
        contributors=[
            {"member_id": s.member_id, "records_served": s.records_served, "cents": s.amount_cents}
            for s in shares
        ],
    ), 201


@bp.get("/ledger")
@api_access(Scope.BoardRead)
def list_ledger() -> Response:
    member = member_caller()
    return jsonify(
        payments=[
            {
                "id": line.payment.id,
                "proposal_id": line.payment.proposal_id,
                "amount_cents": line.payment.amount_cents,
                "currency": line.payment.currency,
                "commons_cents": line.payment.commons_cents,
                "contributors_cents": line.contributors_cents,
                "contributors": line.contributors,
                "my_share_cents": line.mine_cents,
                "received_at": line.payment.received_at.isoformat(),
            }
            for line in ledger.ledger(db(), member.id)
        ]
    )


def _seat(seat: Any) -> dict[str, Any]:
    return {
        "member_class": seat.member_class,
        "number": seat.number,
        "holder_id": seat.holder_id,
        "holder": seat.holder.display_name if seat.holder else None,
        "term_start": seat.term_start.isoformat() if seat.term_start else None,
        "term_end": seat.term_end.isoformat() if seat.term_end else None,
        "held": seat.holder_id is not None and seat.held_by_at(seat.holder_id, now()),
    }


@bp.get("/seats")
@api_access(Scope.BoardRead)
def list_seats() -> Response:
    member_caller()
    return jsonify(seats=[_seat(s) for s in seat_service.board(db(), state().bylaws)])


@bp.put("/seats/<member_class>/<int:number>")
@api_access(Scope.BoardWrite)
def assign_seat(member_class: str, number: int) -> Response:
    steward = require(Permission.SeatsAssign)
    body = json_body("seat.schema.json")
    holder = db().get(Member, body["member_id"])
    if holder is None:
        raise NotFound(Code.MEMBER_UNKNOWN, "member_id")
    seat = seat_service.assign_seat(
        db(),
        state().bylaws,
        member=holder,
        member_class=member_class,
        number=number,
        actor=members.actor_of(steward),
        at=now(),
        term_end=parse_time(body.get("term_end"), "term_end"),
    )
    return jsonify(_seat(seat))


@bp.get("/elections")
@writes
@api_access(Scope.BoardRead)
def list_elections() -> Response:
    member, at = member_caller(), now()
    found = [
        election_service.settle(db(), state().bylaws, e, at)
        for e in election_service.list_elections(db())
    ]
    return jsonify(elections=[election_view(db(), e, member, at) for e in found])


@bp.get("/elections/<int:election_id>")
@writes
@api_access(Scope.BoardRead)
def get_election(election_id: int) -> Response:
    member, at = member_caller(), now()
    election = election_service.settle(
        db(), state().bylaws, election_service.get_election(db(), election_id), at
    )
    return jsonify(election_view(db(), election, member, at))


@bp.post("/elections/<int:election_id>/votes")
@api_access(Scope.ProposalsVote)
def vote_in_election(election_id: int) -> tuple[Response, int]:
    member = member_caller()
    body = json_body("election-vote.schema.json")
    at = now()
    election_service.vote(
        db(), state().bylaws, election_id, voter=member, candidate_id=body["candidate_id"], at=at
    )
    election = election_service.get_election(db(), election_id)
    return jsonify(election_view(db(), election, member, at)), 201
