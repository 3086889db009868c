"""Which bylaws are in force: the file the trust was founded with, until the board adopts an
amendment; then the newest adopted text, read from the database so that every app host and
worker switches rules at the same moment."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import AdoptedBylaws
from cltd.rules.bylaws import Bylaws, parse_bylaws
from cltd.rules.purposes import PurposeTaxonomy


@lru_cache(maxsize=8)
def _parsed(text: str, taxonomy: PurposeTaxonomy) -> Bylaws:
    return parse_bylaws(text, source="adopted bylaws", taxonomy=taxonomy)


def in_force(session: Session, founding: Bylaws) -> Bylaws:
    text = session.scalar(select(AdoptedBylaws.text).order_by(AdoptedBylaws.id.desc()).limit(1))
    return founding if text is None else _parsed(text, founding.taxonomy)
