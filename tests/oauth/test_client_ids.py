"""Client ids are typed by stewards after commands (`cltd clients disable ID`), so none may
read as an option. The url-safe ids issued before could start with '-' (1 in 64), which
made `clients disable` refuse a real application."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.services import oauth

ISSUED = 300  # the old generator passes this only about once in a hundred runs


def test_no_issued_client_id_reads_as_an_option(db_session: Session) -> None:
    ids = [
        oauth.register_client(
            db_session,
            name=f"Reader {n}",
            organisation="Seed Library",
            client_type="confidential",
            redirect_uris=[],
            scopes=["catalog:read"],
            grant_types=["client_credentials"],
            may_introspect=False,
            actor="steward:test",
            at=now(),
        ).client.client_id
        for n in range(ISSUED)
    ]
    assert len(set(ids)) == ISSUED
    assert [i for i in ids if i.startswith("-")] == []
