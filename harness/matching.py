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
    # bool is an int in Python; OCPP's true is not 1.
    if isinstance(matcher, bool) or isinstance(value, bool):
        return type(matcher) is type(value) and matcher == value
    return matcher == value


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


def diff(expected: Mapping[str, Any], actual: Any) -> str:
    """A readable deepdiff of a pattern's plain values against a payload (fields the pattern names)."""
    from deepdiff import DeepDiff  # imported on first failure: it costs more start-up time than the whole harness

    plain = {k: v for k, v in expected.items() if not isinstance(v, (_Any, OneOf, Regex, Where))}
    if isinstance(actual, Mapping):
        actual = {k: actual.get(k) for k in expected}
    text = DeepDiff(plain, actual, ignore_order=True, verbose_level=2).pretty()
    return text or "(no difference in plain values; see the matcher description)"
