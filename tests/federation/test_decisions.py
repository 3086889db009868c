"""Closed proposals are published as signed decision records that anyone can recount: the
counterexample's record says rejected, with counts that give rejected; a record whose outcome
does not follow from its counts is refused, however well it is signed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cltd.adapters import dataintegrity, proofset
from cltd.adapters.clock import now
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.rules.tally import Ballot
from cltd.services import assets, decisions, governance
from tests.cli.support import cltd
from tests.services.test_governance import board


def counterexample(session: Session, bylaws: Bylaws) -> int:
    """9 seats; contributors and community all yes, the public no: rejected."""
    seats = board(session, bylaws)
    asset = assets.create_asset(
        session,
        bylaws,
        slug="survey",
        title={"en": "Survey"},
        description={},
        keywords=[],
        actor="t",
        at=now(),
        fields=[{"name": "v", "type": "text"}],
    )
    proposal = governance.propose(
        session,
        bylaws,
        author=seats["public"][0],
        kind=ProposalKind.TRANSFER,
        title="To the Northern trust",
        text="",
        at=now(),
        asset=asset,
        recipient="Northern Community Data Trust",
        recipient_locked=True,
    )
    governance.open_voting(session, bylaws, proposal, actor="t", at=now())
    for member_class, choice in (("contributor", Ballot.YES), ("community", Ballot.YES)):
        for member in seats[member_class]:
            governance.cast(session, proposal.id, member=member, choice=choice, at=now())
    for member in seats["public"][:2]:
        governance.cast(session, proposal.id, member=member, choice=Ballot.NO, at=now())
    session.commit()
    return proposal.id


def test_a_closed_proposal_is_a_signed_record_that_recounts(
    client: FlaskClient, db_session: Session, bylaws: Bylaws
) -> None:
    proposal_id = counterexample(db_session, bylaws)
    record = client.get(f"/federation/decisions/{proposal_id}").get_json()
    assert record["type"] == "DecisionRecord" and record["outcome"] == "rejected"
    rows = {r["memberClass"]: r for r in record["classResult"]}
    assert (rows["contributor"]["yesCount"], rows["public"]["noCount"]) == (3, 2)
    assert rows["public"]["notVoted"] == 1 and rows["public"]["passes"] is False
    assert record["bylawsVersion"] == bylaws.version and len(record["auditHash"]) == 64
    assert "ballot" not in record  # secret ballot: counts only
    assert record["subject"].endswith("/federation/datasets/survey")
    assert decisions.check_record(record) is False
    listing = client.get("/federation/decisions?since=0").get_json()
    assert [d["id"] for d in listing["decision"]] == [record["id"]]
    assert client.get("/federation/decisions/999").status_code == 404


def test_public_votes_are_named_when_the_bylaws_say_so(
    app, client: FlaskClient, db_session: Session, bylaws: Bylaws, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    proposal_id = counterexample(db_session, bylaws)
    state = app.extensions["cltd"]
    monkeypatch.setitem(
        app.extensions, "cltd", replace(state, founding_bylaws=replace(bylaws, votes_public=True))
    )
    record = client.get(f"/federation/decisions/{proposal_id}").get_json()
    assert sorted(b["seat"] for b in record["ballot"] if b["choice"] == "no") == [
        "public:1",
        "public:2",
    ]


def test_a_six_of_nine_majority_claimed_as_passed_is_refused(
    client: FlaskClient, db_session: Session, bylaws: Bylaws, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    proposal_id = counterexample(db_session, bylaws)
    record = client.get(f"/federation/decisions/{proposal_id}").get_json()
    did = client.get("/.well-known/did.json").get_json()
    (tmp_path / "did.json").write_text(json.dumps(did))
    (tmp_path / "record.json").write_text(json.dumps(record))
    good = cltd(
        capsys, "federation", "verify", tmp_path / "record.json", "--did", tmp_path / "did.json"
    )
    assert good.code == 0, good.err
    assert "recounted: 1 decisions follow from their counts" in good.out

    # A forger with its own key claims a plain majority carried it: the signature holds, the
    # recount does not.
    forged = {k: v for k, v in record.items() if k != "proof"}
    forged["outcome"] = "passed"
    with pytest.raises(decisions.RecountRefused):
        decisions.check_record(forged)
    key = dataintegrity.private_key_from_multikey(
        "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
    )
    method = "did:key:" + dataintegrity.public_multikey(key.public_key())
    signed = proofset.sign_document(
        forged,
        key,
        verification_method=f"{method}#{method.removeprefix('did:key:')}",
        created=now(),
        origins=["http://localhost"],
        suites=(dataintegrity.JCS,),
    )
    (tmp_path / "forged.json").write_text(json.dumps(signed))
    refused = cltd(capsys, "federation", "verify", tmp_path / "forged.json")
    assert "recount" in refused.assert_one_error_line(code=1)


@pytest.mark.parametrize(
    "change",
    [
        {"passes": True},  # the public class's own result misstated
        {"notVoted": 0},  # counts that do not add up to the seats
        {"quorum": "two thirds"},  # not a fraction
    ],
)
def test_a_record_that_does_not_add_up_is_refused(
    client: FlaskClient, db_session: Session, bylaws: Bylaws, change: dict
) -> None:  # type: ignore[type-arg]
    proposal_id = counterexample(db_session, bylaws)
    record = client.get(f"/federation/decisions/{proposal_id}").get_json()
    for row in record["classResult"]:
        if row["memberClass"] == "public":
            row.update(change)
    with pytest.raises(decisions.RecountRefused):
        decisions.check_record(record)
