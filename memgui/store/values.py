"""Small helpers shared by the rules: deep merge and copying of JSON values."""

from __future__ import annotations

from typing import Any, Final, TypeVar

T = TypeVar("T")


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: "No expectation given" for compare-and-set parameters (None is a legitimate expected value).
MISSING: Final = _Sentinel("MISSING")
#: "Expected not to exist", for compare-and-set parameters.
ABSENT: Final = _Sentinel("ABSENT")


def check_expected(current: Any, expected: Any, what: str) -> None:
    """Raise ``ConflictError`` unless ``current`` is what the caller read (``MISSING``: no check)."""
    from memgui.store.errors import ConflictError

    if expected is MISSING or current == expected or (current is ABSENT and expected is ABSENT):
        return
    now = "absent" if current is ABSENT else repr(current)
    raise ConflictError(f"{what} changed since it was read (now {now[:200]})")


def clone(value: T) -> T:
    """A deep copy of a JSON value (much faster than ``copy.deepcopy`` for dicts, lists and scalars)."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [clone(v) for v in value]  # type: ignore[return-value]
    return value


def deep_merge(base: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    """A new dict: ``base`` with ``updates`` merged in, recursing where both sides hold dicts."""
    out = dict(base)
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = clone(value)
    return out
