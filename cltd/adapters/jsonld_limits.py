"""Limits that keep a peer's JSON-LD document from costing us unbounded time or memory.

RDF canonicalisation is cheap for ordinary data (blank nodes told apart by what they say)
but exponential for blank nodes that only point at look-alike blank nodes: a complete graph
of 8 blank nodes (700 bytes) keeps pyld busy for about two minutes, a 200-item @list of one
repeated value for 20 s. Only the Hash N-Degree Quads step does that work, and before each
run tries its orderings we know how many there are and how large the identifier issuer is
that every ordering copies. So the cost is counted before it is paid:

- `max_permutations` orderings per run at most (Sophia's "permutation limit"): the complete
  graph of 8 needs 7! = 5040 and is refused in milliseconds;
- `max_work` = sum over runs of orderings x (issuer size + related nodes): measured at
  ~150 000 units per second of pyld on a 2-core machine, so 100 000 stops any tangle within
  about a second, while ordinary documents cost 0 (no look-alike blank nodes at all).

These checks are in-process and deterministic: no thread, signal or child process, so they
hold alike in a gunicorn sync worker, in a thread and in the CLI, and the same document is
refused the same way everywhere. A wall-clock deadline, checked at every step, stops what
they did not foresee. The byte, depth, statement and blank-node caps bound the JSON-LD
expansion before that (pyld cannot be interrupted while it expands).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pyld.canon import URDNA2015

# pyld's RDF dataset: graph name ("@default" or an IRI / blank node) -> triples as dicts.
Dataset = dict[str, list[dict[str, Any]]]


class JsonLdRefused(ValueError):
    """A JSON-LD document we will not process. `reason` is a stable code; str() is English."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 2_000_000  # a 1000-dataset catalog page is ~0.6-1.2 MB, ~2-3 s of pyld
    max_depth: int = 64  # JSON nesting; a catalog page needs about 10
    max_quads: int = 100_000  # a 1000-dataset page makes ~14 000-24 000 statements
    max_blank_nodes: int = 20_000  # ... and 1000-3000 blank nodes
    max_permutations: int = 720  # 6!: orderings one Hash N-Degree Quads run may try
    max_work: int = 100_000  # orderings x issuer size over all runs; ~0.5-1 s of pyld
    seconds: float = 10.0  # wall clock for expansion + canonicalisation


DEFAULT_LIMITS = Limits()


def deadline_after(limits: Limits) -> float:
    return time.monotonic() + limits.seconds


def check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise JsonLdRefused(
            "canonicalisation-timeout",
            "Processing the document took too long, so it was stopped.",
        )


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion (a hostile depth is fine)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_document(document: Any, limits: Limits) -> None:
    """Refuse what is not a JSON-LD object, too deep, or too large, before pyld sees it."""
    if not isinstance(document, dict | list):
        raise JsonLdRefused("not-json-ld", "The document is not a JSON-LD object.")
    depth = json_depth(document)
    if depth > limits.max_depth:
        raise JsonLdRefused(
            "too-deep",
            f"The document is nested {depth} levels deep; at most {limits.max_depth} are accepted.",
        )
    size = _json_size(document)
    if size > limits.max_bytes:
        raise JsonLdRefused(
            "document-too-large",
            f"The document is {size} bytes; at most {limits.max_bytes} are accepted.",
        )


def _json_size(document: Any) -> int:
    try:
        return len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError):
        raise JsonLdRefused("not-json-ld", "The document is not plain JSON.") from None


def check_dataset(dataset: Dataset, limits: Limits, deadline: float) -> None:
    """Count statements and blank nodes of the expanded document before canonicalising it."""
    check_deadline(deadline)
    quads = sum(len(triples) for triples in dataset.values())
    if quads > limits.max_quads:
        raise JsonLdRefused(
            "too-many-quads",
            f"The document makes {quads} statements; at most {limits.max_quads} are accepted.",
        )
    blank = {name for name in dataset if name.startswith("_:")}
    for triples in dataset.values():
        for triple in triples:
            for position in ("subject", "object"):
                term = triple[position]
                if term["type"] == "blank node":
                    blank.add(term["value"])
    if len(blank) > limits.max_blank_nodes:
        raise JsonLdRefused(
            "too-many-blank-nodes",
            f"The document has {len(blank)} unnamed nodes; at most {limits.max_blank_nodes} "
            "are accepted.",
        )


def _too_interlinked() -> JsonLdRefused:
    return JsonLdRefused(
        "blank-nodes-too-interlinked",
        "The document links unnamed nodes to each other in a way that would take too long "
        "to put in canonical order. Give them identifiers (@id) or describe them differently.",
    )


class GuardedURDNA2015(URDNA2015):  # type: ignore[misc]
    """pyld's URDNA2015 (= RDFC-1.0), same output, refusing work past the limits.

    Only Hash N-Degree Quads can blow up; it runs solely for blank nodes that look alike.
    Before each run tries its orderings we know how many there are and how big the issuer
    is that every ordering copies, so the cost is counted before it is paid.
    """

    def __init__(self, limits: Limits, deadline: float) -> None:
        super().__init__()
        self.limits = limits
        self.deadline = deadline
        self.work = 0

    def main(self, dataset: Any, options: Any) -> Any:
        try:
            return super().main(dataset, options)
        except RecursionError:
            # Hash N-Degree Quads recurses once per link of a chain of look-alike blank nodes.
            raise _too_interlinked() from None

    def hash_first_degree_quads(self, id_: str) -> Any:
        check_deadline(self.deadline)
        return super().hash_first_degree_quads(id_)

    def create_hash_to_related(self, id_: str, issuer: Any) -> Any:
        check_deadline(self.deadline)
        related = super().create_hash_to_related(id_, issuer)
        orderings = 1
        for nodes in related.values():
            for count in range(2, len(nodes) + 1):  # len(nodes)! without computing a huge one
                orderings *= count
                if orderings > self.limits.max_permutations:
                    raise _too_interlinked()
        self.work += orderings * (len(issuer.order) + sum(map(len, related.values())))
        if self.work > self.limits.max_work:
            raise _too_interlinked()
        return related
