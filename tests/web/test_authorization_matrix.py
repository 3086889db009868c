"""Every route × every kind of caller → the status that caller must get (ASVS 8.2, R9).

The routes come from the app's URL map, so a new route without a row here fails
`test_every_route_has_a_row`. Objects in paths belong to member A (a token, a consent), or are
shared (an asset the consumer holds a grant on, an application the steward may disable), so
the table also says who may touch whose objects.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.models import Member, Peer
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.services import access as access_service
from cltd.services import assets as asset_service
from cltd.services import consents as consent_service
from cltd.services import elections, governance, oauth
from cltd.services.seats import assign_seat
from tests.conftest import TEST_PASSWORD
from tests.oauth.test_code_flow import REDIRECT, pkce
from tests.support import mint, register, transfer_row
from tests.web.helpers import csrf_token, sign_in

CALLERS = ("anonymous", "member_a", "member_b", "board", "steward", "consumer", "wrong_scope")
SESSION_CALLERS = {"member_a", "member_b", "board", "steward"}
_unique = itertools.count(1)


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


def members_only(member: int, *, anonymous: int = 302, consumer: int = 302) -> dict[str, int]:
    return {
        "anonymous": anonymous,
        "member_a": member,
        "member_b": member,
        "board": member,
        "steward": member,
        "consumer": consumer,
        "wrong_scope": consumer,
    }


def steward_page(steward: int) -> dict[str, int]:
    return {**members_only(403), "steward": steward}


def api(
    member: int, consumer: int, wrong: int, *, steward: int | None = None, **overrides: int
) -> dict[str, int]:
    table = {
        "anonymous": 401,
        "member_a": member,
        "member_b": member,
        "board": member,
        "steward": member if steward is None else steward,
        "consumer": consumer,
        "wrong_scope": wrong,
    }
    table.update(overrides)
    return table


@dataclass
class Route:
    path: str
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    form: bool = False  # an HTML form (CSRF token in the body) rather than JSON


@dataclass
class World:
    app: Flask
    ids: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    bearer: dict[str, dict[str, str]] = field(default_factory=dict)


def _routes(w: World) -> dict[tuple[str, str], Route]:
    ids = w.ids
    n = next(_unique)
    authorize = (
        f"/oauth/authorize?response_type=code&client_id={ids['public_client']}"
        f"&redirect_uri={REDIRECT}&scope=profile:read&state=s"
        f"&code_challenge={ids['challenge']}&code_challenge_method=S256"
    )
    new_client = {
        "name": f"App {n}",
        "organisation": "Org",
        "client_type": "confidential",
        "redirect_uris": [],
        "scopes": ["catalog:read"],
        "grant_types": ["client_credentials"],
        "may_introspect": False,
    }
    new_asset = {
        "slug": f"asset-{n}",
        "title": {"en": "A"},
        "fields": [{"name": "v", "type": "text"}],
    }
    return {
        ("pages.home", "GET"): Route("/", everyone(200)),
        ("static", "GET"): Route("/static/cltd.css", everyone(200)),
        ("health.healthz", "GET"): Route("/healthz", everyone(200)),
        ("federation.did_document", "GET"): Route("/.well-known/did.json", everyone(200)),
        ("federation.trust_description", "GET"): Route("/federation/trust", everyone(200)),
        ("federation.catalog_page", "GET"): Route("/federation/catalog?since=0", everyone(200)),
        ("federation.dataset", "GET"): Route("/federation/datasets/matrix-survey", everyone(200)),
        ("federation.context", "GET"): Route("/contexts/cltd-v1.jsonld", everyone(200)),
        ("federation.decision_page", "GET"): Route("/federation/decisions", everyone(200)),
        ("federation.decision_record", "GET"): Route(
            f"/federation/decisions/{ids['passed_api']}", everyone(200)
        ),
        ("federation.key_rotations", "GET"): Route("/federation/key-rotations", everyone(200)),
        ("pages.steward_peers", "GET"): Route("/steward/peers", steward_page(200)),
        ("pages.add_peer", "POST"): Route(
            "/steward/peers", steward_page(502), {"url": "http://127.0.0.1:9"}, form=True
        ),
        ("pages.sync_peer", "POST"): Route(
            f"/steward/peers/{ids['peer']}/sync", steward_page(302), {}, form=True
        ),
        **_transfer_routes(ids),
        ("pages.federated_catalog", "GET"): Route("/catalog?q=survey", members_only(200)),
        ("pages.network", "GET"): Route("/network", members_only(200)),
        ("api.list_peers", "GET"): Route("/api/v1/peers", api(403, 403, 403, steward=200)),
        ("api.pin_peer", "POST"): Route(
            "/api/v1/peers",
            api(403, 403, 403, steward=502),
            {
                "url": "http://127.0.0.1:9",
                "key": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            },
        ),
        ("api.sync_peer", "POST"): Route(
            f"/api/v1/peers/{ids['peer']}/sync", api(403, 403, 403, steward=202)
        ),
        ("api.federated_catalog", "GET"): Route(
            "/api/v1/federated-catalog?q=survey&purpose=public-benefit", api(200, 200, 200)
        ),
        ("oauth.metadata", "GET"): Route("/.well-known/oauth-authorization-server", everyone(200)),
        ("api.openapi", "GET"): Route("/api/v1/openapi.json", everyone(200)),
        ("pages.signin", "GET"): Route("/signin", everyone(200)),
        ("pages.signin", "POST"): Route(
            "/signin",
            everyone(400),
            {"email": "x@example.org", "password": "not the password"},
            form=True,
        ),
        ("pages.signout", "POST"): Route("/signout", everyone(302), {}, form=True),
        ("pages.language", "POST"): Route("/language", everyone(302), {"locale": "fr"}, form=True),
        ("pages.account_apps", "GET"): Route("/account/apps", members_only(200)),
        ("pages.account_app_revoke", "POST"): Route(
            f"/account/apps/{ids['token_a']}/revoke",
            {**members_only(404), "member_a": 302},
            {},
            form=True,
        ),
        ("pages.my_data", "GET"): Route("/my-data", members_only(200)),
        ("pages.my_data_consent", "POST"): Route(
            "/my-data/consent",
            members_only(302),
            {"asset_id": "", "purpose": "public-benefit", "consent": "1"},
            form=True,
        ),
        ("pages.my_data_receipt", "GET"): Route(
            f"/my-data/consents/{ids['consent_a']}/receipt.json",
            {**members_only(404), "member_a": 200},
        ),
        ("pages.my_data_uses", "GET"): Route("/my-data/uses", members_only(200)),
        ("pages.my_data_leave", "GET"): Route("/my-data/leave", members_only(200)),
        ("pages.my_data_leave", "POST"): Route(
            "/my-data/leave", members_only(400), {"email": "nobody@example.org"}, form=True
        ),
        ("pages.my_data_goodbye", "GET"): Route("/my-data/goodbye", everyone(302)),
        ("pages.steward_assets", "GET"): Route("/steward/assets", steward_page(200)),
        ("pages.steward_assets", "POST"): Route(
            "/steward/assets",
            steward_page(302),
            {
                "slug": f"page-asset-{n}",
                "texts-0-language": "en",
                "texts-0-title": "A",
                "record_fields": "v text",
            },
            form=True,
        ),
        ("pages.contribute_record", "GET"): Route(
            f"/assets/{ids['asset']}/contribute", {**members_only(403), "member_a": 200}
        ),
        ("pages.contribute_record", "POST"): Route(
            f"/assets/{ids['asset']}/contribute",
            {**members_only(403), "member_a": 302},
            {"value-street": "Mill Lane"},
            form=True,
        ),
        ("pages.steward_members", "GET"): Route("/steward/members", steward_page(200)),
        ("pages.steward_members", "POST"): Route(
            "/steward/members",
            steward_page(302),
            {
                "display_name": f"New {n}",
                "email": f"new{n}@example.org",
                "member_class": "community",
                "password": "a long enough password",
            },
            form=True,
        ),
        ("pages.steward_clients", "GET"): Route("/steward/clients", steward_page(200)),
        ("pages.steward_clients", "POST"): Route(
            "/steward/clients",
            steward_page(200),
            {
                "name": f"App {n}",
                "organisation": "Org",
                "client_type": "confidential",
                "grant_types": "client_credentials",
                "scopes": "catalog:read",
            },
            form=True,
        ),
        ("pages.steward_client_disable", "POST"): Route(
            f"/steward/clients/{ids['consumer_client']}/disable", steward_page(302), {}, form=True
        ),
        ("oauth.authorize", "GET"): Route(authorize, members_only(200)),
        ("oauth.authorize", "POST"): Route(
            authorize, members_only(302), {"approve": "Allow"}, form=True
        ),
        ("oauth.token", "POST"): Route(
            "/oauth/token", everyone(401), {"grant_type": "client_credentials"}, form=True
        ),
        ("oauth.revoke", "POST"): Route("/oauth/revoke", everyone(401), {"token": "x"}, form=True),
        ("oauth.introspect", "POST"): Route(
            "/oauth/introspect", everyone(401), {"token": "x"}, form=True
        ),
        ("api.me", "GET"): Route("/api/v1/me", api(200, 403, 403)),
        ("api.list_tokens", "GET"): Route("/api/v1/tokens", api(200, 403, 403)),
        ("api.revoke_token", "DELETE"): Route(
            f"/api/v1/tokens/{ids['token_a']}", api(404, 403, 403, member_a=204, steward=204)
        ),
        ("api.list_clients", "GET"): Route("/api/v1/clients", api(403, 403, 403, steward=200)),
        ("api.register_client", "POST"): Route(
            "/api/v1/clients", api(403, 403, 403, steward=201), new_client
        ),
        ("api.list_assets", "GET"): Route("/api/v1/assets", api(200, 200, 200)),
        ("api.create_asset", "POST"): Route(
            "/api/v1/assets", api(403, 403, 403, steward=201), new_asset
        ),
        ("api.get_asset", "GET"): Route(f"/api/v1/assets/{ids['asset']}", api(200, 200, 200)),
        ("api.contribute", "POST"): Route(
            f"/api/v1/assets/{ids['asset']}/records",
            api(403, 403, 403, member_a=201),
            {"values": {"street": "Mill Lane"}},
        ),
        ("api.read_records", "GET"): Route(
            f"/api/v1/assets/{ids['asset']}/records?purpose=public-benefit", api(403, 200, 403)
        ),
        ("api.request_access", "POST"): Route(
            "/api/v1/access-requests",
            api(403, 201, 403),
            {
                "asset_id": ids["asset"],
                "purpose": "public-benefit",
                "justification": "For the council's repair plans.",
            },
        ),
        ("api.my_grants", "GET"): Route("/api/v1/grants", api(403, 200, 403)),
        ("api.list_consents", "GET"): Route("/api/v1/consents", api(200, 403, 403)),
        ("api.change_consent", "PUT"): Route(
            "/api/v1/consents",
            api(200, 403, 403),
            {"asset_id": None, "purpose": "public-benefit", "consent": True},
        ),
        ("api.consent_history", "GET"): Route("/api/v1/consents/history", api(200, 403, 403)),
        ("api.consent_receipt", "GET"): Route(
            f"/api/v1/consents/{ids['consent_a']}/receipt", api(404, 403, 403, member_a=200)
        ),
        ("api.my_uses", "GET"): Route("/api/v1/me/uses", api(200, 403, 403)),
        **_board_routes(ids, n),
    }


def _transfer_routes(ids: dict[str, Any]) -> dict[tuple[str, str], Route]:
    """Transfers: stewards decide offers received (under the default bylaws the board does, so
    a steward's accept is refused: a flash on the page, 403 from the API); seat holders and
    stewards put an offer to the board; every member lists them."""
    board_or_steward = {**members_only(403), "board": 302, "steward": 302}
    refusal = {"reason": "We hold no housing data."}
    unknown = "0" * 32
    return {
        ("pages.steward_transfers", "GET"): Route("/steward/transfers", steward_page(200)),
        ("pages.accept_transfer", "POST"): Route(
            f"/steward/transfers/{ids['offer_accept']}/accept", steward_page(302), {}, form=True
        ),
        ("pages.refuse_transfer", "POST"): Route(
            f"/steward/transfers/{ids['offer_refuse_page']}/refuse",
            steward_page(302),
            refusal,
            form=True,
        ),
        # The board member puts the offer to the board first; the steward, allowed too, then
        # finds it already there (one proposal per offer).
        ("pages.propose_transfer", "POST"): Route(
            f"/steward/transfers/{ids['offer_propose_page']}/propose",
            {**board_or_steward, "steward": 409},
            {},
            form=True,
        ),
        # Messages from peer trusts: signed by the peer, so no caller here gets past the check.
        ("transfer_messages.receive_offer", "POST"): Route(
            "/federation/offers", everyone(403), {"type": "TransferOffer"}
        ),
        ("transfer_messages.offer", "GET"): Route(
            f"/federation/transfers/{unknown}", everyone(404)
        ),
        ("transfer_messages.serve_package", "POST"): Route(
            f"/federation/transfers/{unknown}/package", everyone(404), {}
        ),
        ("transfer_messages.accept_handover", "POST"): Route(
            f"/federation/transfers/{unknown}/acceptance", everyone(404), {}
        ),
        ("transfer_messages.refusal", "POST"): Route(
            f"/federation/transfers/{unknown}/refusal", everyone(404), {}
        ),
        ("api.list_transfers", "GET"): Route("/api/v1/transfers", api(200, 403, 403)),
        ("api.accept_transfer", "POST"): Route(
            f"/api/v1/transfers/{ids['offer_accept']}/accept", api(403, 403, 403)
        ),
        ("api.refuse_transfer", "POST"): Route(
            f"/api/v1/transfers/{ids['offer_refuse_api']}/refuse",
            api(403, 403, 403, steward=200),
            refusal,
        ),
        ("api.propose_transfer", "POST"): Route(
            f"/api/v1/transfers/{ids['offer_propose_api']}/proposal",
            api(403, 403, 403, board=201, steward=409),
        ),
    }


def _board_routes(ids: dict[str, Any], n: int) -> dict[tuple[str, str], Route]:
    """The board: every member reads; seat holders (and stewards) draft, open and carry out;
    only the electorate votes; stewards seat members, call elections and record payments."""
    board_or_steward = {**members_only(403), "board": 302, "steward": 302}
    proposal = f"/board/proposals/{ids['proposal_open']}"
    draft = {"kind": "retire", "title": f"Retire {n}", "asset_id": ids["spare_asset"]}
    api_board = api(403, 403, 403, board=201, steward=201)
    return {
        ("pages.board", "GET"): Route("/board", members_only(200)),
        ("pages.draft_proposal", "POST"): Route(
            "/board/proposals",
            board_or_steward,
            {**draft, "asset_id": str(ids["spare_asset"])},
            form=True,
        ),
        ("pages.proposal", "GET"): Route(proposal, members_only(200)),
        ("pages.open_proposal", "POST"): Route(
            f"/board/proposals/{ids['draft_page']}/open", board_or_steward, {}, form=True
        ),
        ("pages.vote", "POST"): Route(
            f"{proposal}/ballot", members_only(302), {"choice": "abstain"}, form=True
        ),
        ("pages.execute", "POST"): Route(
            f"/board/proposals/{ids['passed_page']}/execute", board_or_steward, {}, form=True
        ),
        ("pages.record_payment", "POST"): Route(
            f"/board/proposals/{ids['licence']}/payments",
            steward_page(302),
            {"amount": "10.00"},
            form=True,
        ),
        ("pages.asset_history", "GET"): Route(f"/assets/{ids['asset']}/history", members_only(200)),
        ("pages.board_seats", "GET"): Route("/board/seats", members_only(200)),
        ("pages.assign_seat", "POST"): Route(
            "/board/seats",
            steward_page(302),
            {"seat": "public:3", "member_id": str(ids["spare_public"])},
            form=True,
        ),
        ("pages.elections", "GET"): Route("/board/elections", members_only(200)),
        ("pages.call_election", "POST"): Route(
            "/board/elections",
            steward_page(302),
            {
                "member_class": "community",
                "seat_numbers": "3",
                "opens_on": "2099-01-01",
                "closes_on": "2099-01-15",
                "term_months": "24",
            },
            form=True,
        ),
        ("pages.election", "GET"): Route(
            f"/board/elections/{ids['election_open']}", members_only(200)
        ),
        ("pages.add_candidate", "POST"): Route(
            f"/board/elections/{ids['election_upcoming']}/candidates",
            steward_page(302),
            {"member_id": str(ids["member_b"])},
            form=True,
        ),
        ("pages.vote_in_election", "POST"): Route(
            f"/board/elections/{ids['election_page']}/votes",
            members_only(302),
            {"candidate_id": str(ids["candidate_page"])},
            form=True,
        ),
        ("pages.board_ledger", "GET"): Route("/board/ledger", members_only(200)),
        ("api.list_proposals", "GET"): Route("/api/v1/proposals", api(200, 403, 403)),
        ("api.draft_proposal", "POST"): Route("/api/v1/proposals", api_board, draft),
        ("api.get_proposal", "GET"): Route(
            f"/api/v1/proposals/{ids['proposal_open']}", api(200, 403, 403)
        ),
        ("api.open_proposal", "POST"): Route(
            f"/api/v1/proposals/{ids['draft_api']}/open",
            api(403, 403, 403, board=200, steward=409),
        ),
        ("api.cast_ballot", "PUT"): Route(
            f"/api/v1/proposals/{ids['proposal_open']}/ballot",
            api(403, 403, 403, board=200),
            {"choice": "yes"},
        ),
        ("api.execute_proposal", "POST"): Route(
            f"/api/v1/proposals/{ids['passed_api']}/execute",
            api(403, 403, 403, board=200, steward=409),
        ),
        ("api.record_payment", "POST"): Route(
            f"/api/v1/proposals/{ids['licence']}/payments",
            api(403, 403, 403, steward=201),
            {"amount": "12.50"},
        ),
        ("api.list_ledger", "GET"): Route("/api/v1/ledger", api(200, 403, 403)),
        ("api.list_seats", "GET"): Route("/api/v1/seats", api(200, 403, 403)),
        ("api.assign_seat", "PUT"): Route(
            "/api/v1/seats/contributor/3",
            api(403, 403, 403, steward=200),
            {"member_id": ids["spare_contributor"]},
        ),
        ("api.list_elections", "GET"): Route("/api/v1/elections", api(200, 403, 403)),
        ("api.get_election", "GET"): Route(
            f"/api/v1/elections/{ids['election_open']}", api(200, 403, 403)
        ),
        ("api.vote_in_election", "POST"): Route(
            f"/api/v1/elections/{ids['election_open']}/votes",
            api(403, 403, 403, member_b=201, steward=201),
            {"candidate_id": ids["candidate_open"]},
        ),
    }


def _board_world(db_session: Session, make_member, bylaws: Bylaws, people: dict[str, Member]):  # type: ignore[no-untyped-def]
    """Two more seat holders per class (so a ballot can never settle a proposal here), a spare
    asset to propose about, drafts, passed proposals, a carried-out licence and elections."""
    at = now()
    for member_class in bylaws.class_keys():
        numbers = (2,) if member_class == "public" else (1, 2)
        for number in numbers:
            holder = make_member(member_class, name=f"Seat {member_class} {number}")
            assign_seat(
                db_session,
                bylaws,
                member=holder,
                member_class=member_class,
                number=number,
                actor="steward:test",
                at=at,
            )

    def spare_asset(slug: str):  # type: ignore[no-untyped-def]
        return asset_service.create_asset(
            db_session,
            bylaws,
            slug=slug,
            title={"en": "Spare"},
            description={},
            keywords=[],
            actor="steward:test",
            at=at,
            fields=[{"name": "v", "type": "text"}],
        )

    spare = spare_asset("matrix-spare")

    def drafted(title: str, *, opened: bool = False, status: str | None = None) -> int:
        # A proposal that will be carried out gets an asset of its own.
        asset = spare if status is None else spare_asset(f"matrix-{status}-{title[-3:].lower()}")
        proposal = governance.propose(
            db_session,
            bylaws,
            author=people["board"],
            kind=ProposalKind.RETIRE,
            title=title,
            text="",
            at=at,
            asset=asset,
        )
        if opened:
            governance.open_voting(db_session, bylaws, proposal, actor="steward:test", at=at)
        if status is not None:  # a vote already decided, as if the board had voted
            proposal.status = status
            proposal.closed_at = at
            proposal.closed_seq = proposal.id  # as if its closing had been audited
        return proposal.id

    peer = Peer(
        origin="https://peer.example",
        did="did:web:peer.example",
        name="Peer Example Trust",
        key_multibase="z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        description={},
        added_at=at,
    )
    db_session.add(peer)
    db_session.flush()
    ids = {
        "peer": peer.id,
        **{
            name: transfer_row(db_session, peer).id
            for name in (
                "offer_accept",
                "offer_refuse_page",
                "offer_refuse_api",
                "offer_propose_page",
                "offer_propose_api",
            )
        },
        "spare_asset": spare.id,
        "proposal_open": drafted("Open", opened=True),
        "draft_page": drafted("Draft for the page"),
        "draft_api": drafted("Draft for the API"),
        "passed_page": drafted("Passed, for the page", opened=True, status="passed"),
        "passed_api": drafted("Passed, for the API", opened=True, status="passed"),
        "licence": drafted("A licence", opened=True, status="executed"),
        "member_b": people["member_b"].id,
        "spare_public": make_member("public", name="Spare public").id,
        "spare_contributor": make_member("contributor", name="Spare contributor").id,
    }
    licence = governance.get_proposal(db_session, ids["licence"])
    licence.kind = ProposalKind.LICENCE.value
    # Under the default bylaws the board decides offers: the steward refuses one only after
    # the board rejected it.
    rejected = governance.propose(
        db_session,
        bylaws,
        author=people["board"],
        kind=ProposalKind.ACCEPT_ASSET,
        title="Accept the offer?",
        text="",
        at=at,
        transfer_pk=ids["offer_refuse_api"],
    )
    governance.open_voting(db_session, bylaws, rejected, actor="steward:test", at=at)
    rejected.status, rejected.closed_at, rejected.closed_seq = "rejected", at, rejected.id
    community = [make_member("community", name=f"Candidate {n}") for n in range(2)]
    upcoming = elections.call_election(
        db_session,
        bylaws,
        member_class="community",
        seat_numbers=[3],
        opens_at=at + timedelta(days=30),
        closes_at=at + timedelta(days=40),
        term_months=24,
        actor="steward:test",
        at=at,
    )
    for name, candidate in (("open", community[0]), ("page", community[1])):
        election = elections.call_election(
            db_session,
            bylaws,
            member_class="community",
            seat_numbers=[3],
            opens_at=at - timedelta(days=1),
            closes_at=at + timedelta(days=10),
            term_months=24,
            actor="steward:test",
            at=at - timedelta(days=2),
        )
        stands = elections.add_candidate(
            db_session,
            election.id,
            member=candidate,
            statement="",
            actor="steward:test",
            at=at - timedelta(days=2),
        )
        ids[f"election_{name}"], ids[f"candidate_{name}"] = election.id, stands.id
    ids["election_upcoming"] = upcoming.id
    db_session.commit()
    return ids


def _build_world(app: Flask, db_session: Session, make_member, bylaws: Bylaws) -> World:  # type: ignore[no-untyped-def]
    contributor, community, public = bylaws.class_keys()
    w = World(app)
    people: dict[str, Member] = {
        "member_a": make_member(contributor, name="Member A"),
        "member_b": make_member(community, name="Member B"),
        "board": make_member(public, name="Board Member"),
        "steward": make_member(community, steward=True, name="Steward"),
    }
    assign_seat(
        db_session,
        bylaws,
        member=people["board"],
        member_class=public,
        number=1,
        actor="steward:test",
        at=now(),
    )
    asset = asset_service.create_asset(
        db_session,
        bylaws,
        slug="matrix-survey",
        title={"en": "Survey"},
        description={},
        keywords=[],
        actor="steward:test",
        at=now(),
        fields=[{"name": "street", "type": "text"}],
        contributing_classes=[contributor],
        permitted={"public-benefit": ["street"]},
    )
    consumer = register(db_session, scopes=["catalog:read", "records:read", "access:request"])
    access_service.request_access(
        db_session,
        bylaws,
        client=consumer,
        asset=asset,
        purpose="public-benefit",
        justification="Council repair plans.",
        at=now(),
    )
    public_app = register(db_session, scopes=["profile:read"], confidential=False, name="Pub")
    consent = consent_service.grant(
        db_session,
        bylaws.taxonomy,
        member=people["member_a"],
        asset_id=asset.id,
        purpose="public-benefit",
        at=now(),
    )
    row = oauth.save_token(
        db_session,
        {"access_token": f"a-{next(_unique)}", "expires_in": 600, "scope": "profile:read"},
        client=public_app,
        member=people["member_a"],
        at=now(),
    )
    db_session.commit()
    w.ids = {
        **_board_world(db_session, make_member, bylaws, people),
        "asset": asset.id,
        "consent_a": consent.id,
        "token_a": row.id,
        "consumer_client": consumer.client_id,
        "public_client": public_app.client_id,
        "challenge": pkce()[1],
    }
    w.bearer["consumer"] = mint(db_session, consumer, "catalog:read records:read access:request")
    w.bearer["wrong_scope"] = mint(db_session, consumer, "catalog:read")
    for caller in CALLERS:
        w.clients[caller] = app.test_client()
        if caller in SESSION_CALLERS:
            sign_in(w.clients[caller], people[caller].email, TEST_PASSWORD)
    return w


def _call(w: World, caller: str, method: str, route: Route) -> int:
    client = w.clients[caller]
    headers = {"Accept": "application/json"} if route.path.startswith("/api/") else {}
    headers.update(w.bearer.get(caller, {}))
    token = csrf_token(client.get("/signin").get_data(as_text=True))
    if route.form:
        response = client.open(
            route.path,
            method=method,
            data={**(route.body or {}), "csrf_token": token},
            headers=headers,
        )
    elif route.body is not None:
        response = client.open(
            route.path, method=method, json=route.body, headers={**headers, "X-CSRFToken": token}
        )
    elif method != "GET":
        response = client.open(route.path, method=method, headers={**headers, "X-CSRFToken": token})
    else:
        response = client.open(route.path, method=method, headers=headers)
    response.close()
    return response.status_code


def _endpoints(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_row(app: Flask) -> None:
    w = World(
        app,
        ids=defaultdict(lambda: 1),
    )
    assert _endpoints(app) - set(_routes(w)) == set(), "routes without a row in the matrix"
    assert set(_routes(w)) - _endpoints(app) == set(), "rows for routes the app does not have"


def test_every_caller_gets_exactly_the_expected_status(
    app, db_session, make_member, bylaws
) -> None:  # type: ignore[no-untyped-def]
    w = _build_world(app, db_session, make_member, bylaws)
    mismatches = []
    # Requests that end things (sign-out, revoking, disabling) go last, so they cannot change
    # what the callers after them see.
    enders = {
        "pages.account_app_revoke": 1,
        "api.revoke_token": 1,
        "pages.steward_client_disable": 2,
        "pages.signout": 3,
    }
    order = sorted(_routes(w).items(), key=lambda item: enders.get(item[0][0], 0))
    for (_endpoint, method), route in order:
        for caller in CALLERS:
            got = _call(w, caller, method, route)
            if got != route.expected[caller]:
                mismatches.append(
                    f"{method} {route.path} as {caller}: {got}, expected {route.expected[caller]}"
                )
    assert not mismatches, "\n".join(mismatches)
