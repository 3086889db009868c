"""JSON-LD processing that never touches the network, with limits for documents from peers.

Invariant 7: contexts come from schemas/contexts/ (index.json maps each URL to its file);
every other URL is refused. pyld's own default loader would fetch any URL over HTTP as soon
as `requests` is importable, so importing this module replaces that default too: a code path
that forgets to pass a loader still cannot reach the network.

A URL in index.json that starts with "/" is trust-relative: each trust serves that context at
that path of its own origin. It is accepted only for the origins the caller names (the local
trust and the peer at hand), so a peer cannot make us accept arbitrary hosts.

canonical_nquads() is RDF Dataset Canonicalization (RDFC-1.0, pyld's URDNA2015) under the
limits in `Limits`; see cltd/adapters/jsonld_limits.py for why they are what they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pyld import jsonld

from cltd.adapters.jsonld_limits import (
    DEFAULT_LIMITS,
    Dataset,
    GuardedURDNA2015,
    JsonLdRefused,
    Limits,
    check_dataset,
    check_document,
    deadline_after,
)
from cltd.resources import schemas_dir

__all__ = [
    "DEFAULT_LIMITS",
    "ContextRefused",
    "Dataset",
    "JsonLdRefused",
    "Limits",
    "LocalContextLoader",
    "canonical_nquads",
    "context_index",
    "contexts_dir",
    "origin_of",
    "parse_document",
    "to_rdf_dataset",
]


class ContextRefused(JsonLdRefused):
    """A document names a context that is not one of our local copies."""

    def __init__(self, url: str) -> None:
        super().__init__(
            "remote-context",
            f"The document uses the context {url!r}, which this trust does not know; "
            "contexts are never fetched from the network.",
        )
        self.url = url


def contexts_dir() -> Path:
    return schemas_dir() / "contexts"


@cache
def context_index() -> dict[str, str]:
    """Context URL (or trust-relative path) -> file name in schemas/contexts/."""
    index = json.loads((contexts_dir() / "index.json").read_text(encoding="utf-8"))
    return {str(url): str(name) for url, name in index.items()}


@cache
def _context_text(name: str) -> str:
    return (contexts_dir() / name).read_text(encoding="utf-8")


def origin_of(url: str) -> str:
    """'https://Trust.example:8443/any/path' -> 'https://trust.example:8443'."""
    parts = urlsplit(url.strip())
    host = parts.hostname  # lower-cased, without user info
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port  # ValueError when it is not a port number
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


class LocalContextLoader:
    """A pyld document loader serving exactly the contexts of schemas/contexts/."""

    def __init__(self, origins: Iterable[str] = ()) -> None:
        self.origins = frozenset(origin_of(origin) for origin in origins)
        self.served: dict[str, str] = {}
        for url, name in context_index().items():
            if url.startswith("/"):
                self.served.update({origin + url: name for origin in self.origins})
            else:
                self.served[url] = name

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        name = self.served.get(url)
        if name is None:
            raise ContextRefused(url)
        # A fresh copy each time: pyld rewrites context URLs inside what it is given. No
        # "static" tag either, so pyld's process-wide context cache never lets one loader's
        # trust-relative URL be seen by another loader that was not given that origin.
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": json.loads(_context_text(name)),
        }


def parse_document(raw: bytes | str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse JSON received from a peer, refusing it before parsing if it is too large."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > limits.max_bytes:
        raise JsonLdRefused(
            "document-too-large",
            f"The document is {len(data)} bytes; at most {limits.max_bytes} are accepted.",
        )
    try:
        return json.loads(data, parse_constant=_not_a_json_number)
    except RecursionError:
        raise JsonLdRefused("too-deep", "The document is nested too deeply.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise JsonLdRefused("not-json", f"The document is not JSON: {error}.") from None


def _not_a_json_number(name: str) -> None:
    # Python's json reads NaN and Infinity; RFC 8259 JSON has no such numbers.
    raise JsonLdRefused("not-json", f"The document is not JSON: {name} is not a JSON number.")


def to_rdf_dataset(
    document: Any, *, origins: Iterable[str] = (), limits: Limits = DEFAULT_LIMITS
) -> Dataset:
    """The document as a pyld RDF dataset (graph name -> triples), after the size checks.

    Every term must be defined ("safe mode", as jsonld-signatures does): JSON-LD silently
    drops a key its context does not define, so an rdfc proof would not cover it while a
    reader of the JSON would still see it.
    """
    check_document(document, limits)
    options = {
        # What jsonld.normalize passes to to_rdf, so the dataset (and its canonical form) is
        # exactly the one pyld's normalize would canonicalise.
        "documentLoader": LocalContextLoader(origins),
        "base": "",
        "produceGeneralizedRdf": False,
        "extractAllScripts": True,
        "processingMode": "json-ld-1.1",
    }
    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_undefined_term)
    try:
        return processor.to_rdf(document, options)  # type: ignore[no-any-return]
    except JsonLdRefused:
        raise
    except jsonld.JsonLdError as error:
        raise _explain(error) from None
    except RecursionError:
        raise JsonLdRefused("too-deep", "The document is nested too deeply.") from None
    except ValueError as error:  # e.g. a relative context URL: "Found invalid relative IRI ..."
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise JsonLdRefused(
            "not-json-ld", f"The document is not valid JSON-LD: {message}"
        ) from None
    except (TypeError, KeyError, AttributeError, IndexError) as error:
        # pyld assumes well-formed JSON-LD in places; a hostile shape must not be a 500.
        raise JsonLdRefused(
            "not-json-ld", f"The document is not valid JSON-LD ({type(error).__name__})."
        ) from None


def canonical_nquads(
    document: Any, *, origins: Iterable[str] = (), limits: Limits = DEFAULT_LIMITS
) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, or JsonLdRefused.

    This is jsonld.normalize(document, {"algorithm": "URDNA2015", "format":
    "application/n-quads", "documentLoader": <local loader>}) step by step, with the limits
    checked in between; the canonicaliser is pyld's URDNA2015 class itself, so the legacy
    URGNA2012 (pyld's default algorithm!) cannot be picked by mistake.
    """
    deadline = deadline_after(limits)
    dataset = to_rdf_dataset(document, origins=origins, limits=limits)
    check_dataset(dataset, limits, deadline)
    canonicaliser = GuardedURDNA2015(limits, deadline)
    nquads = canonicaliser.main(dataset, {"format": "application/n-quads"})
    return str(nquads)


def _refuse_undefined_term(term: str | None) -> None:
    raise JsonLdRefused(
        "undefined-term",
        f"The document uses the key {term!r}, which its @context does not define"
        if term
        else "The document uses a key that its @context does not define.",
    )


def _explain(error: jsonld.JsonLdError) -> JsonLdRefused:
    """pyld wraps errors in layers; the innermost says what is wrong."""
    innermost: BaseException = error
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, JsonLdRefused):
            return seen
        innermost = seen
        seen = seen.__cause__ or seen.__context__
    message = innermost.args[0] if innermost.args else type(innermost).__name__
    return JsonLdRefused("not-json-ld", f"The document is not valid JSON-LD: {message}")


# Replace pyld's default loader (an HTTP fetcher when requests is importable) at import.
jsonld.set_document_loader(LocalContextLoader())
