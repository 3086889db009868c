"""Delivering a signed notice to a consumer's webhook over HTTP.

The body is canonical JSON (RFC 8785) and the trust signs it with its Ed25519 key; the
consumer checks `CLTD-Signature` against the key in the trust's DID document. Redirects are
not followed and the answer is read no further than its status.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cltd.adapters.canonical import canonical_json

TIMEOUT_SECONDS = 10


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def sign(key: Ed25519PrivateKey, body: bytes) -> str:
    return base64.urlsafe_b64encode(key.sign(body)).rstrip(b"=").decode("ascii")


def post_signed(
    url: str, payload: dict[str, object], key: Ed25519PrivateKey, key_id: str
) -> str | None:
    """POST the notice; None when the consumer answered 2xx, else a readable reason."""
    if not url.startswith(("https://", "http://")):
        return f"not a web address: {url}"
    body = canonical_json(payload)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "CLTD-Signature": f'keyid="{key_id}", alg="ed25519", sig="{sign(key, body)}"',
        },
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return f"the consumer answered HTTP {error.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"could not reach the consumer: {reason}"
    return None if 200 <= status < 300 else f"the consumer answered HTTP {status}"
