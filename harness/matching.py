"""Payload patterns for expectations: exact value, ANY, one-of, regex, predicate.

A pattern is a dict of field -> matcher; fields the pattern does not name are not
checked here (the schema decides which extra fields are allowed). Nested dicts
match recursively, so ``{"idTagInfo": {"status": "Accepted"}}`` checks one field
deep. ``mismatches`` returns every difference with its JSON path, and ``diff``
renders expected vs received with deepdiff for failure messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

__all__ = ["ANY", "OneOf", "Regex", "Where", "Mismatch", "mismatches", "diff"]


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()
"""Matches any value, but the field must be present."""


@dataclass(frozen=True)
class OneOf:
    """Matches any of the given values (for spec steps that allow several answers)."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", values)

    def __repr__(self) -> str:
        return f"one of {list(self.values)!r}"


@dataclass(frozen=True)
class Regex:
    """Matches a string that the regular expression matches in full."""

    pattern: str

    def __repr__(self) -> str:
        return f"a string matching /{self.pattern}/"


@dataclass(frozen=True)
class Where:
    """Matches when ``predicate(value)`` is true; ``description`` says what it checks."""

    predicate: Callable[[Any], bool]
    description: str

    def __repr__(self) -> str:
        return self.description


_MATCHERS = (_Any, OneOf, Regex, Where)


@dataclass(frozen=True)
class Mismatch:
    path: str
    expected: Any
    actual: Any
    missing: bool = False

    def __str__(self) -> str:
        if self.missing:
            return f"{self.path}: missing, expected {self.expected!r}"
        return f"{self.path}: expected {self.expected!r}, got {self.actual!r}"


def _matches(matcher: Any, value: Any) -> bool:
    if matcher is ANY:
        return True
    if isinstance(matcher, OneOf):
        return any(_matches(m, value) for m in matcher.values)
    if isinstance(matcher, Regex):
        return isinstance(value, str) and re.fullmatch(matcher.pattern, value) is not None
    if isinstance(matcher, Where):
        try:
            return bool(matcher.predicate(value))
        except Exception:  # a predicate that cannot judge a wrong-typed value does not match
            return False
    return _strict_equal(matcher, value)


def _strict_equal(a: Any, b: Any) -> bool:
    """JSON equality: bool is an int in Python, but OCPP's true is not 1 (at any depth)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def mismatches(pattern: Mapping[str, Any], payload: Any, path: str = "$") -> list[Mismatch]:
    """Every field where ``payload`` differs from ``pattern``; empty means it matches."""
    if not isinstance(payload, Mapping):
        return [Mismatch(path, dict(pattern), payload)]
    found: list[Mismatch] = []
    for key, matcher in pattern.items():
        where = f"{path}.{key}"
        if key not in payload:
            found.append(Mismatch(where, matcher, None, missing=True))
        elif isinstance(matcher, Mapping):
            found.extend(mismatches(matcher, payload[key], where))
        elif not _matches(matcher, payload[key]):
            found.append(Mismatch(where, matcher, payload[key]))
    return found


def _plain(pattern: Mapping[str, Any], actual: Any) -> tuple[Any, Any]:
    """The pattern's plain values and the same fields of ``actual`` (matchers dropped at every depth)."""
    if not isinstance(actual, Mapping):
        return {k: v for k, v in pattern.items() if not isinstance(v, _MATCHERS)}, actual
    want: dict[str, Any] = {}
    got: dict[str, Any] = {}
    for key, value in pattern.items():
        if isinstance(value, _MATCHERS):
            continue
        if isinstance(value, Mapping):
            want[key], got[key] = _plain(value, actual.get(key))
        else:
            want[key], got[key] = value, actual.get(key)
    return want, got


def diff(expected: Mapping[str, Any], actual: Any) -> str:
    """A readable deepdiff of a pattern's plain values against a payload (fields the pattern names)."""
    from deepdiff import DeepDiff  # imported on first failure: it costs more start-up time than the whole harness

    plain, seen = _plain(expected, actual)
    text = DeepDiff(plain, seen, ignore_order=True, verbose_level=2).pretty()
    return text or "(no difference in plain values; see the matcher description)"
