"""/api/v1 for transfers between trusts: the offers received and sent, and deciding an offer.

GET  /transfers                  board:read    every transfer (members: transfers are public)
POST /transfers/<id>/accept      peers:write   a steward accepts, where the bylaws say so
POST /transfers/<id>/refuse      peers:write   a steward refuses, saying why {reason}
POST /transfers/<id>/proposal    board:write   a seat holder or steward puts it to the board
"""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.rules.codes import Code
from cltd.rules.roles import Permission, Scope
from cltd.services import members, offers, transfers_in
from cltd.web.api import bp
from cltd.web.api.callers import member_caller, require
from cltd.web.board_view import proposal_view
from cltd.web.inputs import json_body
from cltd.web.oauth.resource import api_access
from cltd.web.state import db, state, writes
from cltd.web.transfer_view import board_proposal_text, transfer_view


@bp.get("/transfers")
@writes  # a read ends the offers whose time ran out
@api_access(Scope.BoardRead)
def list_transfers() -> Response:
    member_caller()
    at = now()
    deciding = offers.deciding_proposals(db(), at)
    return jsonify(
        transfers=[transfer_view(t, deciding.get(t.id)) for t in offers.list_all(db(), at)]
    )


@bp.post("/transfers/<int:transfer_id>/accept")
@api_access(Scope.PeersWrite)
def accept_transfer(transfer_id: int) -> Response:
    steward = require(Permission.TransfersDecide)
    transfer = transfers_in.accept_by_steward(
        db(),
        state().bylaws,
        offers.get(db(), transfer_id).id,
        actor=members.actor_of(steward),
        at=now(),
    )
    return jsonify(transfer_view(transfer))


@bp.post("/transfers/<int:transfer_id>/refuse")
@api_access(Scope.PeersWrite)
def refuse_transfer(transfer_id: int) -> Response:
    steward = require(Permission.TransfersDecide)
    body = json_body("transfer-refusal.schema.json")
    transfer = transfers_in.refuse(
        db(),
        state().bylaws,
        offers.get(db(), transfer_id).id,
        reason=body["reason"],
        actor=members.actor_of(steward),
        at=now(),
    )
    return jsonify(transfer_view(transfer))


@bp.post("/transfers/<int:transfer_id>/proposal")
@api_access(Scope.BoardWrite)
def propose_transfer(transfer_id: int) -> tuple[Response, int]:
    """Draft the accept_asset proposal and open it for voting, in one step."""
    member = require(Permission.ProposalsDraft, Code.BOARD_ONLY)
    transfer = offers.get(db(), transfer_id)
    title, text = board_proposal_text(transfer)
    at = now()
    proposal = offers.put_to_board(
        db(), state().bylaws, transfer.id, author=member, title=title, text=text, at=at
    )
    return jsonify(proposal_view(db(), proposal, member, at)), 201
