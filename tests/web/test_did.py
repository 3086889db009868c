"""The trust's did:web document publishes its key, and a consent receipt verifies against it
the way a stranger would check it: resolve the verification method, then verify the proof."""

from __future__ import annotations

import pytest

from cltd.adapters.dataintegrity import ProofError, public_key_from_multikey, verify
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf_token, sign_in


def test_the_did_document_names_the_trusts_key(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/.well-known/did.json", base_url="https://trust.example.org")
    assert response.status_code == 200 and response.mimetype == "application/did+json"
    document = response.get_json()
    assert document["id"] == "did:web:trust.example.org"
    method = document["verificationMethod"][0]
    assert method["type"] == "Multikey" and method["controller"] == document["id"]
    assert document["assertionMethod"] == [method["id"]]
    assert method["id"].startswith(document["id"] + "#z6Mk")


def test_a_consent_receipt_verifies_against_the_published_key(client, make_member) -> None:  # type: ignore[no-untyped-def]
    member = make_member()
    sign_in(client, member.email, TEST_PASSWORD)
    token = csrf_token(client.get("/my-data").get_data(as_text=True))
    given = client.put(
        "/api/v1/consents",
        headers={"X-CSRFToken": token},
        json={"asset_id": None, "purpose": "public-benefit", "consent": True},
    )
    receipt = client.get(f"/api/v1/consents/{given.get_json()['consent']['id']}/receipt").get_json()
    document = client.get("/.well-known/did.json").get_json()
    methods = {m["id"]: m for m in document["verificationMethod"]}
    method = methods[receipt["proof"]["verificationMethod"]]
    verify(receipt, public_key_from_multikey(method["publicKeyMultibase"]))
    receipt["purpose"] = "commercial-research"
    with pytest.raises(ProofError):
        verify(receipt, public_key_from_multikey(method["publicKeyMultibase"]))
