"""The trust's public identity: its did:web DID document (/.well-known/did.json).

The trust's Ed25519 key is published as a Multikey for assertionMethod; the verification
method's id is the DID plus the key's multibase, the same id that signed consent receipts
name, so anyone can check a receipt against this document.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from cltd.adapters import dataintegrity
from cltd.web.identity import signing_key, trust_did, verification_method

bp = Blueprint("federation", __name__)

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


@bp.get("/.well-known/did.json")
def did_document() -> Response:
    method = verification_method()
    response = jsonify(
        {
            "@context": DID_CONTEXTS,
            "id": trust_did(),
            "verificationMethod": [
                {
                    "id": method,
                    "type": "Multikey",
                    "controller": trust_did(),
                    "publicKeyMultibase": dataintegrity.public_multikey(signing_key().public_key()),
                }
            ],
            "assertionMethod": [method],
        }
    )
    response.mimetype = "application/did+json"
    return response
