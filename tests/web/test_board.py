"""The board through the API and the pages, as seat holders use it: the tripartite
counterexample voted over HTTP, the lock refusal naming its field, bad input answered with the
field at fault, and pages that show tallies and vote buttons only to those who may vote."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.models import Member, Proposal
from cltd.rules.bylaws import Bylaws
from cltd.services import assets
from cltd.services.seats import assign_seat
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf_token, sign_in


def seated_board(db_session: Session, bylaws: Bylaws, make_member) -> dict[str, list[Member]]:  # type: ignore[no-untyped-def]
    seated: dict[str, list[Member]] = {}
    for member_class in bylaws.class_keys():
        seated[member_class] = []
        for number in (1, 2, 3):
            member = make_member(member_class, name=f"{member_class} seat {number}")
            assign_seat(
                db_session,
                bylaws,
                member=member,
                member_class=member_class,
                number=number,
                actor="steward:test",
                at=now(),
            )
            seated[member_class].append(member)
    db_session.commit()
    return seated


def locked_asset(db_session: Session, bylaws: Bylaws, slug: str = "survey") -> int:
    asset = assets.create_asset(
        db_session,
        bylaws,
        slug=slug,
        title={"en": "Survey"},
        description={},
        keywords=[],
        actor="steward:test",
        at=now(),
        fields=[{"name": "v", "type": "text"}],
    )
    db_session.commit()
    assert asset.locked
    return asset.id


class Session_:
    """A member's browser session speaking JSON to /api/v1 (CSRF header on unsafe methods)."""

    def __init__(self, app: Flask, member: Member) -> None:
        self.client: FlaskClient = app.test_client()
        sign_in(self.client, member.email, TEST_PASSWORD)
        self.token = csrf_token(self.client.get("/signin").get_data(as_text=True))

    def call(self, method: str, path: str, body: object | None = None):  # type: ignore[no-untyped-def]
        return self.client.open(
            path,
            method=method,
            json=body,
            headers={"X-CSRFToken": self.token, "Accept": "application/json"},
        )


def test_six_of_nine_over_http_is_rejected_and_cannot_be_carried_out(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    seats = seated_board(db_session, bylaws, make_member)
    asset_id = locked_asset(db_session, bylaws)
    author = Session_(app, seats["contributor"][0])
    drafted = author.call(
        "POST",
        "/api/v1/proposals",
        {
            "kind": "transfer",
            "title": "To the Northern trust",
            "asset_id": asset_id,
            "recipient": "Northern Community Data Trust",
            "recipient_locked": True,
        },
    )
    assert drafted.status_code == 201, drafted.get_json()
    proposal_id = drafted.get_json()["id"]
    opened = author.call("POST", f"/api/v1/proposals/{proposal_id}/open")
    assert opened.status_code == 200 and opened.get_json()["status"] == "open"
    for member_class, choice in (("contributor", "yes"), ("community", "yes"), ("public", "no")):
        for member in seats[member_class]:
            answer = Session_(app, member).call(
                "PUT", f"/api/v1/proposals/{proposal_id}/ballot", {"choice": choice}
            )
            if answer.status_code == 409:  # the public's second "no" already settled it
                assert answer.get_json()["code"] == "proposal.closed"
                continue
            assert answer.status_code == 200, answer.get_json()
    shown = author.call("GET", f"/api/v1/proposals/{proposal_id}").get_json()
    assert shown["status"] == "rejected"
    tallies = {t["member_class"]: t for t in shown["tally"]}
    assert tallies["contributor"]["yes"] == 3 and tallies["community"]["yes"] == 3
    assert tallies["public"]["passes"] is False
    refused = author.call("POST", f"/api/v1/proposals/{proposal_id}/execute")
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "proposal.not_passed"


def test_a_locked_asset_cannot_be_proposed_to_a_company(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    seats = seated_board(db_session, bylaws, make_member)
    asset_id = locked_asset(db_session, bylaws)
    author = Session_(app, seats["public"][0])
    answer = author.call(
        "POST",
        "/api/v1/proposals",
        {
            "kind": "transfer",
            "title": "Sell it",
            "asset_id": asset_id,
            "recipient": "Data Brokers Ltd",
            "recipient_locked": False,
        },
    )
    assert answer.status_code == 403
    problem = answer.get_json()
    assert problem["field"] == "recipient_locked" and "asset-locked" in problem["detail"]
    assert db_session.scalar(select(func.count()).select_from(Proposal)) == 0


@pytest.mark.parametrize(
    ("path", "method", "body", "field", "status"),
    [
        ("/api/v1/proposals", "POST", {"kind": "sell", "title": "X"}, "kind", 422),
        ("/api/v1/proposals", "POST", {"kind": "retire"}, "title", 422),
        ("/api/v1/proposals", "POST", {"kind": "retire", "title": "X\u0000"}, "title", 400),
        (
            "/api/v1/proposals",
            "POST",
            {"kind": "retire", "title": "X", "asset_id": 999},
            "asset_id",
            404,
        ),
        (
            "/api/v1/proposals",
            "POST",
            {"kind": "amend_bylaws", "title": "X", "bylaws_text": "version = 3"},
            "bylaws_text",
            422,
        ),
        (
            "/api/v1/proposals",
            "POST",
            {"kind": "licence", "title": "X", "access_request_id": 7},
            "access_request_id",
            422,
        ),
        ("/api/v1/proposals/1/ballot", "PUT", {"choice": "maybe"}, "choice", 422),
        ("/api/v1/seats/public/1", "PUT", {"member_id": "me"}, "member_id", 422),
        ("/api/v1/seats/public/9", "PUT", {"member_id": "STEWARD"}, "number", 422),
        (
            "/api/v1/seats/public/1",
            "PUT",
            {"member_id": "STEWARD", "term_end": "tomorrow"},
            "term_end",
            422,
        ),
        ("/api/v1/proposals/1/payments", "POST", {"amount": "12.345"}, "amount", 422),
        ("/api/v1/elections/1/votes", "POST", {"candidate_id": 0}, "candidate_id", 422),
    ],
)
def test_bad_board_input_names_the_field_and_changes_nothing(
    app: Flask,
    db_session: Session,
    bylaws: Bylaws,
    make_member,
    path: str,
    method: str,
    body: dict,
    field: str,
    status: int,
) -> None:  # type: ignore[no-untyped-def]
    steward = make_member("public", steward=True)
    assign_seat(
        db_session, bylaws, member=steward, member_class="public", number=1, actor="t", at=now()
    )
    db_session.commit()
    if body.get("member_id") == "STEWARD":
        body = {**body, "member_id": steward.id}
    answer = Session_(app, steward).call(method, path, body)
    assert answer.status_code == status, answer.get_json()
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    if status != 400:
        assert answer.get_json()["field"] == field
    assert db_session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_the_proposal_page_shows_tallies_and_buttons_to_seat_holders_only(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    seats = seated_board(db_session, bylaws, make_member)
    asset_id = locked_asset(db_session, bylaws)
    author = Session_(app, seats["community"][0])
    proposal_id = author.call(
        "POST",
        "/api/v1/proposals",
        {
            "kind": "retire",
            "title": "Retire the survey",
            "asset_id": asset_id,
        },
    ).get_json()["id"]
    author.call("POST", f"/api/v1/proposals/{proposal_id}/open")
    author.call("PUT", f"/api/v1/proposals/{proposal_id}/ballot", {"choice": "yes"})
    page = author.client.get(f"/board/proposals/{proposal_id}").get_data(as_text=True)
    assert page.count("<meter") == 6  # turnout and yes, in each of three classes
    assert 'data-testid="vote-yes" aria-pressed="true"' in page
    assert re.search(r'data-testid="tally-community".*?1 of 3 seats voted', page, re.S)
    onlooker = Session_(app, make_member("public"))
    page = onlooker.client.get(f"/board/proposals/{proposal_id}").get_data(as_text=True)
    assert "<meter" in page and 'data-testid="vote-yes"' not in page
    board = onlooker.client.get("/board").get_data(as_text=True)
    assert re.search(r'data-testid="proposals-open".*?Retire the survey', board, re.S)
    refused = onlooker.call("PUT", f"/api/v1/proposals/{proposal_id}/ballot", {"choice": "no"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "proposal.not_in_electorate"


def test_ballots_are_named_only_when_the_bylaws_make_votes_public(
    app: Flask, db_session: Session, bylaws: Bylaws, make_member, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    seats = seated_board(db_session, bylaws, make_member)
    asset_id = locked_asset(db_session, bylaws)
    author = Session_(app, seats["public"][0])
    proposal_id = author.call(
        "POST", "/api/v1/proposals", {"kind": "retire", "title": "Retire", "asset_id": asset_id}
    ).get_json()["id"]
    author.call("POST", f"/api/v1/proposals/{proposal_id}/open")
    author.call("PUT", f"/api/v1/proposals/{proposal_id}/ballot", {"choice": "no"})
    secret = author.client.get(f"/board/proposals/{proposal_id}").get_data(as_text=True)
    assert 'data-testid="named-ballots"' not in secret
    state = app.extensions["cltd"]
    monkeypatch.setitem(
        app.extensions, "cltd", replace(state, founding_bylaws=replace(bylaws, votes_public=True))
    )
    public = author.client.get(f"/board/proposals/{proposal_id}").get_data(as_text=True)
    assert re.search(
        r'data-testid="named-ballots">\s*<li>Public representatives seat 1: no', public
    )
