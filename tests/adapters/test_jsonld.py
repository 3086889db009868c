"""JSON-LD never touches the network, and a peer's document cannot make us work without end.

Contexts come only from schemas/contexts/; every refusal carries a stable reason; the
pathological blank-node graphs that keep pyld busy for minutes are refused in milliseconds,
while ordinary catalog pages canonicalise exactly as pyld's own URDNA2015 does.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from cltd.adapters import jsonld
from cltd.adapters.jsonld import (
    ContextRefused,
    JsonLdRefused,
    Limits,
    LocalContextLoader,
    canonical_nquads,
    context_index,
    contexts_dir,
    origin_of,
    parse_document,
)

DI = "https://w3id.org/security/data-integrity/v2"
PREFIXES = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def dcat_page(datasets: int) -> dict[str, Any]:
    """A catalog page shaped like ours: each dataset with one blank-node distribution."""
    return {
        "@context": [PREFIXES, DI],
        "@id": "https://trust.example/catalog",
        "@type": "dcat:Catalog",
        "dct:title": "Example commons catalog",
        "dcat:dataset": [
            {
                "@id": f"https://trust.example/dataset/{i}",
                "@type": "dcat:Dataset",
                "dct:title": {"@value": f"Dataset {i}", "@language": "en"},
                "dct:description": f"Small example dataset number {i} in the commons.",
                "dct:identifier": f"ds-{i}",
                "dcat:keyword": ["commons", f"k{i}"],
                "dct:issued": {"@value": "2024-01-01", "@type": "xsd:date"},
                "dct:publisher": {"@id": "https://trust.example/org/1"},
                "dcat:distribution": {
                    "@type": "dcat:Distribution",
                    "dct:format": "CSV",
                    "dcat:mediaType": {
                        "@id": "https://www.iana.org/assignments/media-types/text/csv"
                    },
                    "dcat:accessURL": {"@id": f"https://trust.example/data/{i}.csv"},
                },
            }
            for i in range(datasets)
        ],
    }


def complete_blank_graph(size: int) -> dict[str, Any]:
    """SIZE blank nodes, each linked to every other: tiny, and exponential for RDFC-1.0."""
    ids = [f"_:n{i}" for i in range(size)]
    return {
        "@context": {"p": {"@id": "http://example.org/p", "@type": "@id"}},
        "@graph": [{"@id": i, "p": [j for j in ids if j != i]} for i in ids],
    }


def repeated_list(length: int) -> dict[str, Any]:
    """An @list of one repeated value: a chain of look-alike blank nodes (cubic in pyld)."""
    return {
        "@context": {"ex": "http://example.org/"},
        "@id": "http://example.org/s",
        "ex:items": {"@list": ["same"] * length},
    }


def refusal(document: Any, **kwargs: Any) -> JsonLdRefused:
    with pytest.raises(JsonLdRefused) as caught:
        canonical_nquads(document, **kwargs)
    assert str(caught.value)  # a sentence for people, not only a code
    return caught.value


# --- the contexts shipped in schemas/contexts ----------------------------------------------


def test_every_listed_context_is_shipped_and_every_shipped_one_is_listed() -> None:
    listed = set(context_index().values())
    shipped = {path.name for path in contexts_dir().glob("*.jsonld")}
    assert listed == shipped
    readme = (contexts_dir() / "README.md").read_text(encoding="utf-8")
    for name in shipped:
        assert "@context" in json.loads((contexts_dir() / name).read_text(encoding="utf-8"))
        assert f"`{name}`" in readme, f"{name} has no source and licence in the README"


def test_the_contexts_the_trust_needs_are_there() -> None:
    for url in (
        "https://www.w3.org/ns/credentials/v2",
        DI,
        "https://w3id.org/security/multikey/v1",
        "https://www.w3.org/ns/did/v1",
    ):
        assert url in context_index()


def test_a_did_document_canonicalises_offline() -> None:
    method = "did:web:trust.example#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    did_document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": "did:web:trust.example",
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": "did:web:trust.example",
                "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            }
        ],
        "assertionMethod": [method],
    }
    assert "<https://w3id.org/security#assertionMethod>" in canonical_nquads(did_document)


# --- the loader: nothing outside schemas/contexts, no network ------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A local TCP server that records every connection made to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    connections: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, address = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(address)
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join(timeout=2)
    server.close()


def test_a_context_on_the_local_network_is_refused_by_name() -> None:
    caught = refusal({"@context": "http://127.0.0.1:9/x", "@id": "http://example.org/a"})
    assert isinstance(caught, ContextRefused)
    assert caught.reason == "remote-context" and "http://127.0.0.1:9/x" in str(caught)


def test_no_connection_is_attempted_even_without_our_loader(
    listener: tuple[int, list[object]],
) -> None:
    port, connections = listener
    document = {"@context": f"http://127.0.0.1:{port}/context", "@id": "http://example.org/a"}
    with pytest.raises(ContextRefused):
        canonical_nquads(document)
    # Code that forgets the loader gets pyld's process default, which this module replaced.
    for call in (pyld_jsonld.expand, pyld_jsonld.to_rdf, pyld_jsonld.normalize):
        with pytest.raises(pyld_jsonld.JsonLdError) as caught:
            call(document)
        assert _has_cause(caught.value, ContextRefused)
    time.sleep(0.3)  # give a connection that was (wrongly) made the time to be recorded
    assert connections == []


def test_the_listener_would_have_seen_a_fetch(listener: tuple[int, list[object]]) -> None:
    """Control: pyld's requests loader does connect, so the empty list above means something."""
    port, connections = listener
    fetching = pyld_jsonld.requests_document_loader(timeout=2)
    with pytest.raises(pyld_jsonld.JsonLdError):
        fetching(f"http://127.0.0.1:{port}/context", {})
    deadline = time.monotonic() + 2
    while not connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections


def _has_cause(error: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def test_an_unknown_https_context_is_refused() -> None:
    url = "https://contexts.example/unknown/v1"
    caught = refusal({"@context": [DI, url], "@id": "https://trust.example/a"})
    assert isinstance(caught, ContextRefused) and url in str(caught)
    with pytest.raises(ContextRefused):
        LocalContextLoader()(url, {})


def test_a_context_imported_from_inside_a_context_is_refused() -> None:
    document = {"@context": {"@version": 1.1, "@import": "https://evil.example/c"}}
    assert refusal(document).reason == "remote-context"


@pytest.fixture
def trust_relative(monkeypatch: pytest.MonkeyPatch) -> str:
    """A trust-relative entry in the index, whatever the project's own context holds today."""
    index = {**context_index(), "/contexts/test-v1.jsonld": "multikey-v1.jsonld"}
    monkeypatch.setattr(jsonld, "context_index", lambda: index)
    return "/contexts/test-v1.jsonld"


def test_a_trust_relative_context_is_served_only_for_the_listed_origins(
    trust_relative: str,
) -> None:
    loader = LocalContextLoader(origins=["https://Peer.example:8443/catalog?page=2"])
    served = loader(f"https://peer.example:8443{trust_relative}", {})
    assert "@context" in served["document"]
    for url in (
        f"https://other.example{trust_relative}",
        f"https://peer.example{trust_relative}",  # another port is another origin
        f"http://peer.example:8443{trust_relative}",
        trust_relative,
    ):
        with pytest.raises(ContextRefused):
            loader(url, {})
    with pytest.raises(ContextRefused):
        LocalContextLoader()(f"https://peer.example:8443{trust_relative}", {})


def test_a_trust_relative_context_in_a_document(trust_relative: str) -> None:
    document = {
        "@context": [f"https://peer.example{trust_relative}", DI],
        "@id": "https://peer.example/key",
        "@type": "Multikey",
    }
    assert "security#Multikey" in canonical_nquads(document, origins=["https://peer.example"])
    assert refusal(document, origins=["https://trust.example"]).reason == "remote-context"
    assert refusal(document).reason == "remote-context"


def test_origins_are_normalised() -> None:
    assert origin_of("HTTPS://Trust.Example/a/b?c#d") == "https://trust.example"
    assert origin_of("http://user@127.0.0.1:8080/") == "http://127.0.0.1:8080"
    for bad in ("did:web:trust.example", "ftp://trust.example", "https://", "https://h:port/"):
        with pytest.raises(ValueError):
            origin_of(bad)


# --- canonicalisation is pyld's URDNA2015, exactly ------------------------------------------


def test_a_100_dataset_page_canonicalises_like_pyld_urdna2015() -> None:
    page = dcat_page(100)
    started = time.monotonic()
    canonical = canonical_nquads(page)
    elapsed = time.monotonic() - started
    expected = pyld_jsonld.normalize(
        page,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": LocalContextLoader(),
        },
    )
    assert canonical == expected
    assert canonical.count("\n") == 1402 and "_:c14n99 " in canonical
    assert elapsed < 30  # ~0.1 s on a 2-core machine; only a gross regression trips this


# --- guards for documents from peers --------------------------------------------------------


def test_a_document_larger_than_the_cap_is_refused_before_parsing() -> None:
    raw = json.dumps(dcat_page(20)).encode()
    assert parse_document(raw) == dcat_page(20)
    with pytest.raises(JsonLdRefused) as caught:
        parse_document(raw, Limits(max_bytes=len(raw) - 1))
    assert caught.value.reason == "document-too-large"
    assert refusal(dcat_page(20), limits=Limits(max_bytes=1000)).reason == "document-too-large"


def test_what_is_not_json_is_refused() -> None:
    for raw in (b"not json", b"\xff\xfe", b'{"a": ', b'{"a": NaN}', b"[-Infinity]"):
        with pytest.raises(JsonLdRefused) as caught:
            parse_document(raw)
        assert caught.value.reason == "not-json"


def test_a_deeply_nested_document_is_refused() -> None:
    deep: dict[str, Any] = {"@value": "bottom"}
    for _ in range(100):
        deep = {"http://example.org/p": deep}
    assert refusal({"@context": {}, "http://example.org/p": deep}).reason == "too-deep"
    with pytest.raises(JsonLdRefused) as caught:  # deeper than Python's JSON parser goes
        parse_document(b"[" * 100_000 + b"]" * 100_000)
    assert caught.value.reason == "too-deep"


def test_too_many_statements_or_blank_nodes_are_refused() -> None:
    page = dcat_page(5)  # 72 statements, 5 blank nodes
    assert refusal(page, limits=Limits(max_quads=71)).reason == "too-many-quads"
    assert refusal(page, limits=Limits(max_blank_nodes=4)).reason == "too-many-blank-nodes"
    canonical_nquads(page, limits=Limits(max_quads=72, max_blank_nodes=5))


@pytest.mark.parametrize("size", [7, 8, 12, 40])
def test_a_complete_graph_of_blank_nodes_is_refused_at_once(size: int) -> None:
    """K8 is 700 bytes and keeps pyld's URDNA2015 busy for about two minutes."""
    document = complete_blank_graph(size)
    started = time.monotonic()
    caught = refusal(document)
    elapsed = time.monotonic() - started
    assert caught.reason == "blank-nodes-too-interlinked"
    assert elapsed < 2, f"refused after {elapsed:.2f} s"  # a security limit, not a benchmark


def test_the_refusal_holds_in_a_worker_thread() -> None:
    """No signals or child processes: it works where gunicorn's threads run it."""
    outcome: list[object] = []

    def run() -> None:
        try:
            canonical_nquads(complete_blank_graph(8))
        except JsonLdRefused as error:
            outcome.append(error.reason)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=10)
    assert outcome == ["blank-nodes-too-interlinked"]


def test_a_long_chain_of_look_alike_blank_nodes_is_refused_quickly() -> None:
    """600 repeats of one value in an @list: 8 minutes in pyld, refused within ~1 s."""
    started = time.monotonic()
    assert refusal(repeated_list(600)).reason == "blank-nodes-too-interlinked"
    assert time.monotonic() - started < 5


def test_small_look_alike_structures_still_canonicalise() -> None:
    reference = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": LocalContextLoader(),
    }
    twins = {
        "@context": {"ex": "http://example.org/"},
        "@id": "http://example.org/s",
        "ex:part": [{"ex:format": "CSV"}, {"ex:format": "CSV"}],
    }
    for document in (twins, repeated_list(10), complete_blank_graph(3)):
        assert canonical_nquads(document) == pyld_jsonld.normalize(document, reference)


def test_the_wall_clock_limit_stops_canonicalisation_midway() -> None:
    """With the work limit lifted, the deadline alone stops a 9-second canonicalisation."""
    limits = Limits(max_work=10**12, seconds=0.5)
    started = time.monotonic()
    assert refusal(repeated_list(150), limits=limits).reason == "canonicalisation-timeout"
    assert time.monotonic() - started < 5


def test_the_wall_clock_limit_covers_expansion_too() -> None:
    assert refusal(dcat_page(5), limits=Limits(seconds=0)).reason == "canonicalisation-timeout"


@pytest.mark.parametrize(
    "document",
    [
        "https://trust.example/catalog",  # a string is a URL to fetch for pyld: never
        42,
        {"@context": 5},
        {"@context": {"ex": "http://example.org/"}, "@id": 5},
        {"@context": {"ex": "http://example.org/"}, "ex:p": {"@value": {"nested": 1}}},
        {"@context": "/contexts/cltd-v1.jsonld", "@id": "http://example.org/a"},
    ],
)
def test_what_is_not_json_ld_is_refused(document: Any) -> None:
    assert refusal(document).reason == "not-json-ld"


def test_a_key_the_context_does_not_define_is_refused() -> None:
    """JSON-LD would drop it silently, so an rdfc proof would not cover what readers see."""
    document = {**dcat_page(1), "price": "free"}
    caught = refusal(document)
    assert caught.reason == "undefined-term" and "'price'" in str(caught)
