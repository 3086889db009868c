"""Demo data: three classes of members, a full board, a couple of assets in three languages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.models import Member
from cltd.rules.bylaws import Bylaws
from cltd.services.assets import create_asset
from cltd.services.members import add_member
from cltd.services.seats import assign_seat

DEMO_PASSWORD = "commons-demo-2026"  # noqa: S105 - printed for demo sign-ins
DEMO_ACTOR = "steward:demo"
_FIRST_NAMES = {
    0: ["Ana", "Bram", "Chioma", "Dara"],
    1: ["Elif", "Fatou", "Goran", "Hana"],
    2: ["Iris", "Jonas", "Kemal", "Lucía"],
}


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    description: str


def seed_demo(session: Session, bylaws: Bylaws, at: datetime) -> list[DemoSignIn]:
    """Fill an empty trust; a trust that already has members is left as it is."""
    sign_ins: list[DemoSignIn] = []
    if session.scalar(select(func.count()).select_from(Member)):
        return _existing_sign_ins(session)
    steward = add_member(
        session,
        bylaws,
        email="steward@demo.cltd.example",
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
                email=f"{first.lower()}@demo.cltd.example".replace("í", "i"),
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
    create_asset(
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
    )
    return sign_ins


def _existing_sign_ins(session: Session) -> list[DemoSignIn]:
    members = session.scalars(
        select(Member).where(Member.email.like("%@demo.cltd.example")).order_by(Member.id)
    )
    return [DemoSignIn(m.email, _describe(m)) for m in members]


def _describe(member: Member) -> str:
    if member.is_steward:
        return "steward"
    if member.seats:
        return f"board, {member.member_class} seat"
    return f"member, {member.member_class}"
