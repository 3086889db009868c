"""Transfers between trusts as people see them: the steward's page of offers received and sent,
deciding an offer as the bylaws say (the steward, or the board by an accept_asset proposal),
a refusal that must say why, a transfer drafted to a pinned peer and carried out as an offer,
the member's records that moved, and the asset's history. Pages and API say the same."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.models import (
    Direction,
    OutboxJob,
    Proposal,
    Transfer,
    TransferContributor,
)
from cltd.rules.bylaws import Acceptor, Bylaws, ProposalKind, TransferRules
from cltd.services import audit, governance
from cltd.services.audit import AuditAction
from cltd.services.seats import assign_seat
from tests.conftest import TEST_PASSWORD
from tests.support import pin_test_peer, transfer_row
from tests.web.helpers import csrf_token, post_form, sign_in
from tests.web.test_board import Session_, locked_asset, seated_board
from tests.web.test_openapi import _validate


def steward_decides(app: Flask, bylaws: Bylaws, monkeypatch: pytest.MonkeyPatch) -> None:
    state = app.extensions["cltd"]
    rules = replace(bylaws, transfers=TransferRules(incoming=Acceptor.STEWARD))
    monkeypatch.setitem(app.extensions, "cltd", replace(state, founding_bylaws=rules))


def seated(db_session: Session, bylaws: Bylaws, make_member, member_class: str = "public"):  # type: ignore[no-untyped-def]
    member = make_member(member_class, name="Board Member")
    assign_seat(
        db_session,
        bylaws,
        member=member,
        member_class=member_class,
        number=1,
        actor="steward:test",
        at=now(),
    )
    db_session.commit()
    return member


def state_of(db_session: Session, transfer_id: int) -> str:
    db_session.expire_all()
    transfer = db_session.get(Transfer, transfer_id)
    assert transfer is not None
    return transfer.state


def test_the_steward_accepts_an_offer_where_the_bylaws_give_it_to_the_steward(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    steward_decides(app, bylaws, monkeypatch)
    peer = pin_test_peer(db_session)
    by_page = transfer_row(db_session, peer, title="Housing survey")
    by_api = transfer_row(db_session, peer, title="Flood reports")
    db_session.commit()
    steward = Session_(app, make_member(steward=True))
    page = steward.client.get("/steward/transfers").get_data(as_text=True)
    row = re.search(rf'data-testid="transfer-{by_page.id}".*?</tr>', page, re.S)
    assert row is not None
    assert "Housing survey" in row.group(0) and "Northern Community Data Trust" in row.group(0)
    assert "6 records of 3 contributors" in row.group(0)
    assert "Waiting for our decision" in row.group(0)
    assert f'data-testid="accept-{by_page.id}"' in row.group(0)
    assert f'data-testid="propose-{by_page.id}"' not in row.group(0)
    assert "Their board: passed" in row.group(0)
    assert "Public representatives: yes 4 · no 1 · of 5 seats" in row.group(0)
    assert 'data-testid="nav-transfers"' in page

    answer = post_form(
        steward.client, "/steward/transfers", f"/steward/transfers/{by_page.id}/accept", {}
    )
    assert answer.status_code == 302
    assert state_of(db_session, by_page.id) == "accepted"
    assert "Accepted." in steward.client.get("/steward/transfers").get_data(as_text=True)
    accepted = steward.call("POST", f"/api/v1/transfers/{by_api.id}/accept")
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["state"] == "accepted"
    _validate(accepted.get_json(), 200, "/api/v1/transfers/{transfer_id}/accept", "post")
    jobs = db_session.scalars(select(OutboxJob).where(OutboxJob.kind == "transfer.accept")).all()
    assert sorted(j.payload["transfer"] for j in jobs) == sorted(
        [by_page.transfer_id, by_api.transfer_id]
    )
    again = steward.call("POST", f"/api/v1/transfers/{by_api.id}/accept")
    assert again.status_code == 409 and again.get_json()["code"] == "transfer.not_open"
    unknown = steward.call("POST", "/api/v1/transfers/999999/accept")
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "transfer.unknown"


def test_under_board_bylaws_the_steward_cannot_accept_alone(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    peer = pin_test_peer(db_session)
    offer = transfer_row(db_session, peer)
    db_session.commit()
    steward = Session_(app, make_member(steward=True))
    refused = steward.call("POST", f"/api/v1/transfers/{offer.id}/accept")
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "transfer.board_decides"
    page = steward.client.get("/steward/transfers").get_data(as_text=True)
    assert f'data-testid="accept-{offer.id}"' not in page
    assert f'data-testid="propose-{offer.id}"' in page
    answer = post_form(
        steward.client, "/steward/transfers", f"/steward/transfers/{offer.id}/accept", {}
    )
    assert answer.status_code == 302
    shown = steward.client.get("/steward/transfers").get_data(as_text=True)
    assert 'data-testid="flash-error"' in shown and "put the offer to the board" in shown
    assert state_of(db_session, offer.id) == "offered"
    assert db_session.scalar(select(func.count()).select_from(OutboxJob)) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"reason": ""}, 422), ({"reason": "   "}, 422), ({"reason": "x" * 501}, 422)],
)
def test_a_refusal_through_the_api_must_say_why(
    app: Flask, db_session: Session, make_member, body: dict[str, str], status: int
) -> None:  # type: ignore[no-untyped-def]
    offer = transfer_row(db_session, pin_test_peer(db_session))
    db_session.commit()
    steward = Session_(app, make_member(steward=True))
    answer = steward.call("POST", f"/api/v1/transfers/{offer.id}/refuse", body)
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.get_json()["field"] == "reason"
    assert state_of(db_session, offer.id) == "offered"


def test_a_refusal_on_the_page_must_say_why_and_then_tells_the_sender(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    steward_decides(app, bylaws, monkeypatch)
    offer = transfer_row(db_session, pin_test_peer(db_session))
    db_session.commit()
    steward = Session_(app, make_member(steward=True))
    action = f"/steward/transfers/{offer.id}/refuse"
    empty = post_form(steward.client, "/steward/transfers", action, {"reason": "  "})
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    assert re.search(
        rf'data-testid="reason-{offer.id}"[^>]*>\s*<span class="error" role="alert">Say why', html
    )
    assert state_of(db_session, offer.id) == "offered"
    done = post_form(
        steward.client, "/steward/transfers", action, {"reason": "We hold no housing data."}
    )
    assert done.status_code == 302
    assert state_of(db_session, offer.id) == "refused"
    job = db_session.scalar(select(OutboxJob).where(OutboxJob.kind == "transfer.refuse"))
    assert job is not None and job.payload["reason"] == "We hold no housing data."
    page = steward.client.get("/steward/transfers").get_data(as_text=True)
    row = re.search(rf'data-testid="transfer-{offer.id}".*?</tr>', page, re.S)
    assert row is not None and "We hold no housing data." in row.group(0)
    assert f'data-testid="refuse-{offer.id}"' not in row.group(0)
    listed = steward.call("GET", "/api/v1/transfers").get_json()["transfers"]
    assert [(t["id"], t["state"], t["reason"]) for t in listed] == [
        (offer.id, "refused", "We hold no housing data.")
    ]


def test_under_board_bylaws_the_steward_refuses_only_after_the_board(
    app: Flask, db_session: Session, make_member
) -> None:  # type: ignore[no-untyped-def]
    offer = transfer_row(db_session, pin_test_peer(db_session))
    db_session.commit()
    steward = Session_(app, make_member(steward=True))
    page = steward.client.get("/steward/transfers").get_data(as_text=True)
    assert f'data-testid="refuse-{offer.id}"' not in page
    answer = steward.call(
        "POST", f"/api/v1/transfers/{offer.id}/refuse", {"reason": "We hold no housing data."}
    )
    assert (answer.status_code, answer.get_json()["code"]) == (403, "transfer.board_decides")
    assert state_of(db_session, offer.id) == "offered"


def test_putting_an_offer_to_the_board_opens_an_accept_asset_proposal(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    peer = pin_test_peer(db_session)
    by_page = transfer_row(db_session, peer, title="Housing survey")
    by_api = transfer_row(db_session, peer, title="Flood reports")
    db_session.commit()
    # A whole board, so that no class is settled before anyone votes.
    member = Session_(app, seated_board(db_session, bylaws, make_member)["public"][0])
    board = member.client.get("/board").get_data(as_text=True)
    assert 'data-testid="offers-waiting"' in board
    assert f'data-testid="propose-{by_page.id}"' in board
    assert not re.search(r'<option value="accept_asset"', board)
    answer = post_form(member.client, "/board", f"/steward/transfers/{by_page.id}/propose", {})
    assert answer.status_code == 302
    proposal = db_session.scalar(select(Proposal).where(Proposal.transfer_pk == by_page.id))
    assert proposal is not None
    assert answer.headers["Location"].endswith(f"/board/proposals/{proposal.id}")
    assert proposal.kind == ProposalKind.ACCEPT_ASSET and proposal.status == "open"
    assert proposal.title == "Accept “Housing survey” from Northern Community Data Trust"
    page = member.client.get(f"/board/proposals/{proposal.id}").get_data(as_text=True)
    assert "Accept an asset offered by another trust" in page
    offer = re.search(r'data-testid="offer">.*?</p>', page, re.S)
    assert offer is not None
    assert "Housing survey" in offer.group(0) and "Northern Community Data Trust" in offer.group(0)
    assert 'data-testid="offer-link"' not in page  # the transfers page is the steward's
    assert f'data-testid="propose-{by_page.id}"' not in member.client.get("/board").get_data(
        as_text=True
    )
    steward = Session_(app, make_member(steward=True))
    proposal_page = steward.client.get(f"/board/proposals/{proposal.id}").get_data(as_text=True)
    assert 'data-testid="offer-link"' in proposal_page
    transfers_page = steward.client.get("/steward/transfers").get_data(as_text=True)
    row = re.search(rf'data-testid="transfer-{by_page.id}".*?</tr>', transfers_page, re.S)
    assert row is not None and 'data-testid="deciding-proposal"' in row.group(0)
    assert f'data-testid="propose-{by_page.id}"' not in row.group(0)

    drafted = member.call("POST", f"/api/v1/transfers/{by_api.id}/proposal")
    assert drafted.status_code == 201, drafted.get_json()
    body = drafted.get_json()
    assert (body["kind"], body["status"], body["transfer_pk"]) == (
        "accept_asset",
        "open",
        by_api.id,
    )
    _validate(body, 201, "/api/v1/transfers/{transfer_id}/proposal", "post")
    listed = member.call("GET", "/api/v1/transfers")
    assert listed.status_code == 200
    _validate(listed.get_json(), 200, "/api/v1/transfers", "get")
    views = {t["id"]: t for t in listed.get_json()["transfers"]}
    assert views[by_api.id]["proposal_id"] == body["id"]
    assert views[by_api.id]["decision"]["classes"][0] == {
        "member_class": "contributor",
        "seats": 5,
        "yes": 4,
        "no": 1,
        "abstain": 0,
        "passes": True,
    }
    onlooker = Session_(app, make_member("community"))
    refused = onlooker.call("POST", f"/api/v1/transfers/{by_api.id}/proposal")
    assert refused.status_code == 403 and refused.get_json()["code"] == "proposal.board_only"


def test_under_steward_bylaws_an_offer_is_not_put_to_the_board(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    steward_decides(app, bylaws, monkeypatch)
    offer = transfer_row(db_session, pin_test_peer(db_session))
    db_session.commit()
    member = Session_(app, seated(db_session, bylaws, make_member))
    assert 'data-testid="offers-waiting"' not in member.client.get("/board").get_data(as_text=True)
    refused = member.call("POST", f"/api/v1/transfers/{offer.id}/proposal")
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "transfer.steward_decides"
    page = post_form(member.client, "/board", f"/steward/transfers/{offer.id}/propose", {})
    assert page.status_code == 403 and 'data-testid="problem"' in page.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_an_expired_offer_ends_when_read_and_says_so(
    app: Flask, db_session: Session, make_member
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    offer = transfer_row(db_session, pin_test_peer(db_session), expires_in=timedelta(seconds=-1))
    db_session.commit()
    steward = Session_(app, make_member(steward=True))
    page = steward.client.get("/steward/transfers").get_data(as_text=True)
    row = re.search(rf'data-testid="transfer-{offer.id}".*?</tr>', page, re.S)
    assert row is not None and "Expired before it was accepted" in row.group(0)
    assert f'data-testid="refuse-{offer.id}"' not in row.group(0)
    assert state_of(db_session, offer.id) == "expired"


def test_a_transfer_to_a_pinned_peer_is_drafted_on_the_board_page_and_carried_out_as_an_offer(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    peer = pin_test_peer(db_session)
    db_session.commit()
    asset_id = locked_asset(db_session, bylaws)
    member = Session_(app, seated(db_session, bylaws, make_member))
    board = member.client.get("/board").get_data(as_text=True)
    assert f'<option value="{peer.id}">Northern Community Data Trust' in board
    answer = post_form(
        member.client,
        "/board",
        "/board/proposals",
        {
            "kind": "transfer",
            "title": "To the Northern trust",
            "asset_id": str(asset_id),
            "recipient_peer_id": str(peer.id),
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    proposal = db_session.scalar(select(Proposal).where(Proposal.recipient_peer_id == peer.id))
    assert proposal is not None
    assert (proposal.recipient, proposal.recipient_locked) == (peer.name, True)
    governance.open_voting(db_session, bylaws, proposal, actor="steward:test", at=now())
    proposal.status, proposal.closed_at, proposal.closed_seq = "passed", now(), 1
    db_session.commit()
    page = f"/board/proposals/{proposal.id}"
    done = post_form(member.client, page, f"{page}/execute", {})
    assert done.status_code == 302
    db_session.expire_all()
    offer = db_session.scalar(select(Transfer).where(Transfer.proposal_id == proposal.id))
    assert offer is not None
    assert (offer.direction, offer.state, offer.our_base) == (
        Direction.OUTGOING,
        "offered",
        "http://localhost",
    )
    shown = member.client.get(page).get_data(as_text=True)
    assert re.search(
        r'data-testid="offer">Offer to Northern Community Data Trust: Offered: waiting', shown
    )
    history = member.client.get(f"/assets/{asset_id}/history").get_data(as_text=True)
    assert "Offered to Northern Community Data Trust by decision of the board." in history


def test_a_transfer_to_an_unlocked_peer_names_the_field(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    peer = pin_test_peer(db_session, locked=False)
    db_session.commit()
    asset_id = locked_asset(db_session, bylaws)
    member = Session_(app, seated(db_session, bylaws, make_member))
    answer = member.call(
        "POST",
        "/api/v1/proposals",
        {"kind": "transfer", "title": "Away", "asset_id": asset_id, "recipient_peer_id": peer.id},
    )
    assert answer.status_code == 403
    assert answer.get_json()["field"] == "recipient_peer_id"
    page = post_form(
        member.client,
        "/board",
        "/board/proposals",
        {"kind": "transfer", "title": "Away", "asset_id": str(asset_id), "recipient_peer_id": "x"},
    )
    assert page.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_the_member_sees_their_records_that_moved_to_another_trust(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    asset_id = locked_asset(db_session, bylaws, slug="housing")
    peer = pin_test_peer(db_session)
    moved = transfer_row(
        db_session, peer, direction="outgoing", state="completed", asset_id=asset_id
    )
    member = make_member("contributor")
    db_session.add(TransferContributor(transfer_pk=moved.id, member_id=member.id, record_count=4))
    audit.record(
        db_session,
        actor=f"peer:{peer.id}",
        action=AuditAction.TRANSFER_COMPLETED,
        subject=f"asset:{asset_id}",
        at=now(),
        details={"transfer": moved.transfer_id, "recipient": peer.name, "records": 6},
    )
    audit.record(
        db_session,
        actor=f"peer:{peer.id}",
        action=AuditAction.TRANSFER_PACKAGE_SERVED,
        subject=f"asset:{asset_id}",
        at=now(),
        details={"transfer": moved.transfer_id, "package": "0" * 64},
    )
    db_session.commit()
    own = Session_(app, member)
    page = own.client.get("/my-data/uses").get_data(as_text=True)
    row = re.search(r'data-testid="move">.*?</tr>', page, re.S)
    assert row is not None
    assert "Housing survey" in row.group(0)
    assert '<a href="https://northern.example"' in row.group(0)
    assert "Northern Community Data Trust" in row.group(0) and "<td>4</td>" in row.group(0)
    uses = own.call("GET", "/api/v1/me/uses").get_json()
    assert [(m["trust"], m["records"], m["transfer_id"]) for m in uses["moves"]] == [
        (peer.name, 4, moved.transfer_id)
    ]
    other = Session_(app, make_member("contributor"))
    assert 'data-testid="no-moves"' in other.client.get("/my-data/uses").get_data(as_text=True)
    history = own.client.get(f"/assets/{asset_id}/history").get_data(as_text=True)
    assert "Transferred to Northern Community Data Trust: custody moved." in history
    assert "sent to Northern Community Data Trust, to check before accepting" in history


def test_the_history_of_an_asset_received_tells_where_it_came_from(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    asset_id = locked_asset(db_session, bylaws, slug="arrived")
    peer = pin_test_peer(db_session)
    received = transfer_row(db_session, peer, state="completed", asset_id=asset_id)
    for action, subject, details in (
        (AuditAction.TRANSFER_RECEIVED, f"transfer:{received.transfer_id}", {"sender": peer.name}),
        (AuditAction.TRANSFER_ACCEPTED, f"transfer:{received.transfer_id}", {"by": "steward"}),
        (AuditAction.TRANSFER_COMPLETED, f"asset:{asset_id}", {"sender": peer.name}),
    ):
        audit.record(
            db_session,
            actor="steward:test",
            action=action,
            subject=subject,
            at=now(),
            details={"transfer": received.transfer_id, **details},
        )
    db_session.commit()
    page = Session_(app, make_member()).client.get(f"/assets/{asset_id}/history")
    html = page.get_data(as_text=True)
    assert "Offered to this trust by Northern Community Data Trust." in html
    assert "The offer was accepted by the steward." in html
    assert "Received from Northern Community Data Trust." in html


def test_the_transfers_page_is_the_stewards(app: Flask, db_session: Session, make_member) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, make_member().email, TEST_PASSWORD)
    assert client.get("/steward/transfers").status_code == 403
    token = csrf_token(client.get("/signin").get_data(as_text=True))
    assert client.post("/steward/transfers/1/refuse", data={"csrf_token": token}).status_code == 403
