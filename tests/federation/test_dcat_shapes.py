"""The catalog is DCAT: its RDF (from pyld with the local loader, never rdflib's JSON-LD parser,
which fetches contexts) parses with rdflib and validates against the DCAT-AP 3 SHACL shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Namespace
from rdflib.namespace import RDF
from sqlalchemy.orm import Session

from cltd.adapters.jsonld import canonical_nquads
from cltd.rules.bylaws import Bylaws
from tests.federation.test_catalog import make_assets

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "shapes"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")


def catalog_graph(client: FlaskClient) -> Graph:
    document = client.get("/federation/catalog?since=0").get_json()
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    graph = Graph()
    graph.parse(data=canonical_nquads(unsigned, origins=["http://localhost"]), format="nquads")
    return graph


def test_the_catalog_parses_as_dcat(
    client: FlaskClient, db_session: Session, bylaws: Bylaws
) -> None:
    make_assets(db_session, bylaws, 2)
    graph = catalog_graph(client)
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 2
    titles = {(str(t), t.language) for d in datasets for t in graph.objects(d, DCT.title)}
    assert ("Survey 0", "en") in titles and ("Encuesta 1", "es") in titles
    assert all(any(graph.objects(d, DCAT.distribution)) for d in datasets)


@pytest.mark.slow
def test_the_catalog_meets_the_dcat_ap_shapes(
    client: FlaskClient, db_session: Session, bylaws: Bylaws
) -> None:
    from pyshacl import validate

    make_assets(db_session, bylaws, 2)
    data = catalog_graph(client)
    shapes = Graph()
    for name in ("html-shacl_shapes.ttl", "html-shacl_range.ttl"):
        shapes.parse(SHAPES / name, format="turtle")
    conforms, _graph, report = validate(
        data, shacl_graph=shapes, inference="none", do_owl_imports=False
    )
    assert conforms, report
    recommended = Graph().parse(SHAPES / "html-shacl_shapes_recommended.ttl", format="turtle")
    _ok, _graph, advice = validate(
        data, shacl_graph=recommended, inference="none", do_owl_imports=False
    )
    warnings = sorted({line.strip() for line in advice.splitlines() if "Message:" in line})
    print("DCAT-AP recommendations not met:", *warnings, sep="\n  ")
