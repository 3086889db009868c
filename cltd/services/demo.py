"""Demo data: three classes of members, a full board, a couple of assets in three languages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.adapters.vault import KeyRing
from cltd.models import Member
from cltd.rules.bylaws import Bylaws
from cltd.services import consents, oauth
from cltd.services.assets import create_asset
from cltd.services.members import add_member
from cltd.services.records import contribute
from cltd.services.seats import assign_seat

DEMO_PASSWORD = "commons-demo-2026"
DEMO_ACTOR = "steward:demo"
DEMO_DOMAIN = "demo.cltd.example"
DEMO_NAME = "Riverside Community Data Trust"
_FIRST_NAMES = {
    0: ["Ana", "Bram", "Chioma", "Dara"],
    1: ["Elif", "Fatou", "Goran", "Hana"],
    2: ["Iris", "Jonas", "Kemal", "Lucía"],
}


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    description: str


def seed_demo(
    session: Session,
    bylaws: Bylaws,
    ring: KeyRing,
    at: datetime,
    *,
    domain: str = DEMO_DOMAIN,
    with_assets: bool = True,
) -> list[DemoSignIn]:
    """Fill an empty trust; a trust that already has members is left as it is. A second demo
    trust (another DOMAIN for its people, no assets of its own) is one to move assets to."""
    sign_ins: list[DemoSignIn] = []
    if session.scalar(select(func.count()).select_from(Member)):
        return _existing_sign_ins(session, domain)
    steward = add_member(
        session,
        bylaws,
        email=f"steward@{domain}",
        display_name="Sam Steward",
        member_class=bylaws.class_keys()[1],
        password=DEMO_PASSWORD,
        actor=DEMO_ACTOR,
        at=at,
        is_steward=True,
    )
    sign_ins.append(DemoSignIn(steward.email, "steward"))
    for index, member_class in enumerate(bylaws.class_keys()):
        seats = bylaws.member_class(member_class).seats
        for position, first in enumerate(_FIRST_NAMES[index % 3]):
            member = add_member(
                session,
                bylaws,
                email=f"{first.lower()}@{domain}".replace("í", "i"),
                display_name=f"{first} ({member_class})",
                member_class=member_class,
                password=DEMO_PASSWORD,
                actor=DEMO_ACTOR,
                at=at,
            )
            if position < seats:
                assign_seat(
                    session,
                    bylaws,
                    member=member,
                    member_class=member_class,
                    number=position + 1,
                    actor=DEMO_ACTOR,
                    at=at,
                )
                sign_ins.append(DemoSignIn(member.email, f"board, {member_class} seat"))
            else:
                sign_ins.append(DemoSignIn(member.email, f"member, {member_class}"))
    if with_assets:
        _seed_data(session, bylaws, ring, at)
    return sign_ins


DEMO_CONSUMER_ID = "demo-housing-study"
DEMO_CONSUMER_SECRET = "commons-demo-consumer-secret"


def _seed_data(session: Session, bylaws: Bylaws, ring: KeyRing, at: datetime) -> None:
    """Two assets with schemas and policies, records from contributors, a few consents, and
    a data consumer with a known secret, so the README's tour has something to show."""
    survey = create_asset(
        session,
        bylaws,
        slug="housing-conditions-survey",
        title={
            "en": "Housing conditions survey",
            "es": "Encuesta sobre las condiciones de vivienda",
            "fr": "Enquête sur les conditions de logement",
        },
        description={
            "en": "Answers from residents about damp, heating and repairs, street by street.",
            "es": "Respuestas de los vecinos sobre humedad, calefacción y reparaciones, "
            "calle por calle.",
            "fr": "Réponses des habitants sur l'humidité, le chauffage et les réparations, "
            "rue par rue.",
        },
        keywords=["housing", "repairs", "energy"],
        actor=DEMO_ACTOR,
        at=at,
        fields=[
            {"name": "street", "type": "text", "required": True},
            {"name": "damp", "type": "boolean"},
            {"name": "heating", "type": "text"},
            {"name": "household_size", "type": "integer"},
        ],
        contributing_classes=[bylaws.class_keys()[0]],
        permitted={
            "public-benefit": ["street", "damp", "heating"],
            "research-and-development": ["damp", "heating", "household_size"],
        },
        prohibited=["commercial-research"],
        duties=["attribution", "report-back"],
    )
    create_asset(
        session,
        bylaws,
        slug="community-garden-harvests",
        title={"en": "Community garden harvests", "fr": "Récoltes des jardins partagés"},
        description={"en": "Weekly harvest weights from the trust's four garden plots."},
        keywords=["food", "gardens"],
        actor=DEMO_ACTOR,
        at=at,
        fields=[
            {"name": "plot", "type": "text", "required": True},
            {"name": "week", "type": "date", "required": True},
            {"name": "kilograms", "type": "number"},
        ],
        permitted={"public-benefit": ["plot", "week", "kilograms"]},
    )
    contributors = session.scalars(
        select(Member).where(Member.member_class == bylaws.class_keys()[0]).order_by(Member.id)
    ).all()
    streets = ["Mill Lane", "Quay Street", "Orchard Row", "Weavers Yard"]
    for member, street in zip(contributors, streets, strict=False):
        contribute(
            session,
            ring,
            asset=survey,
            member=member,
            at=at,
            values={
                "street": street,
                "damp": street != "Orchard Row",
                "heating": "gas",
                "household_size": 3,
            },
        )
    for member in contributors[:2]:
        consents.grant(
            session,
            bylaws.taxonomy,
            member=member,
            asset_id=survey.id,
            purpose="public-benefit",
            at=at,
        )
    registered = oauth.register_client(
        session,
        name="Riverside Housing Study",
        organisation="City University",
        client_type="confidential",
        redirect_uris=[],
        scopes=["catalog:read", "records:read", "access:request"],
        grant_types=["client_credentials"],
        may_introspect=False,
        actor=DEMO_ACTOR,
        at=at,
    )
    registered.client.client_id = DEMO_CONSUMER_ID
    registered.client.secret_hash = oauth.digest(DEMO_CONSUMER_SECRET)


def _existing_sign_ins(session: Session, domain: str) -> list[DemoSignIn]:
    members = session.scalars(
        select(Member).where(Member.email.like(f"%@{domain}")).order_by(Member.id)
    )
    return [DemoSignIn(m.email, _describe(m)) for m in members]


def _describe(member: Member) -> str:
    if member.is_steward:
        return "steward"
    if member.seats:
        return f"board, {member.member_class} seat"
    return f"member, {member.member_class}"
