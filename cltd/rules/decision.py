"""A rule's answer: allowed or not, and if not, which code says why (with its values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cltd.rules.codes import Code

_EMPTY: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: Code | None = None
    params: Mapping[str, object] = field(default_factory=lambda: _EMPTY, compare=False)

    @classmethod
    def allow(cls) -> Decision:
        return cls(True)

    @classmethod
    def refuse(cls, code: Code, **params: object) -> Decision:
        return cls(False, code, MappingProxyType(dict(params)))

    def __bool__(self) -> bool:
        return self.allowed
