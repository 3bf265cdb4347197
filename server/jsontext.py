"""JSON from outside the server (request bodies, config files): parsed once, the same way everywhere (pure).

- :func:`parse_json` refuses text nested deeper than :data:`MAX_DEPTH` with a :class:`hymy.errors.JsonError`
  whose ``too_deep`` is set (the API answers 400), and text that is not UTF-8 or not JSON (422), including
  what Python's parser alone would take: ``NaN``/``Infinity`` and numbers beyond a double (no JSON
  answer could carry them back) and integers of more than 4,300 digits. A whole number written ``4.0``
  is read as the integer 4, as JSON Schema counts it (the models' integers are strict).
  Without the limit a body of a thousand ``[`` made the standard parser raise RecursionError
  (a 500), and anything a little shallower was parsed but then overflowed the recursion of the code
  that echoes a rejected value back (FastAPI's validation errors).
- :func:`nul_path` finds a NUL character in a parsed value, so a refusal can name the field
  (PostgreSQL text cannot hold NUL). It walks with its own stack, never recursing.
"""

from __future__ import annotations

import json
from typing import Any

from hymy.errors import JsonError

#: Most arrays and objects nested inside a JSON text's top-level value (``{"events": [[...]]}`` with 900
#: ``[`` is exactly at the limit). Python's recursion limit (1,000 frames) is what sets it.
MAX_DEPTH = 900


def parse_json(text: bytes | str, what: str = "body") -> Any:
    """The value of the JSON ``text`` (UTF-8 bytes, or str); JsonError naming ``what`` when it is not
    JSON, not UTF-8, or nested deeper than :data:`MAX_DEPTH` below its top-level value.

    Cost: one ``json.loads``; the depth is walked only when the text has more than ``MAX_DEPTH``
    brackets at all (a batch of 500 events: about half a millisecond).
    """
    opening = (b"[", b"{") if isinstance(text, bytes) else ("[", "{")
    maybe_deep = text.count(opening[0]) + text.count(opening[1]) > MAX_DEPTH + 1
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_number)
    except RecursionError:
        raise _too_deep(what) from None
    except UnicodeDecodeError:
        raise JsonError(f"{what}: not UTF-8 text; send JSON encoded as UTF-8") from None
    except JsonError as exc:
        raise JsonError(f"{what}: invalid JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise JsonError(f"{what}: invalid JSON: {exc}") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise JsonError(f"{what}: invalid JSON: a number has more digits than Python reads (4,300)") from None
    if maybe_deep and depth(value) > MAX_DEPTH + 1:
        raise _too_deep(what)
    return value


def _no_constant(name: str):
    raise JsonError(f"{name} is not a JSON number")


def _number(text: str) -> int | float:
    """A JSON number written with a fraction or exponent: an int when it is a whole number (``4.0`` is the
    integer 4, as JSON Schema says), else a float; beyond what a double holds is refused."""
    value = float(text)
    if value.is_integer():
        return int(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise JsonError(f"{text[:40]} is beyond what a double-precision number holds")
    return value


def _too_deep(what: str) -> JsonError:
    return JsonError(f"{what}: JSON nested more than {MAX_DEPTH} levels deep; nothing Hymy reads is nested "
                     "like that", too_deep=True)


def depth(value: Any) -> int:
    """How many arrays and objects are nested in ``value``, itself included (``[]`` -> 1, ``5`` -> 0)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        kind = type(item)
        if kind is not dict and kind is not list:
            continue
        deepest = max(deepest, level)
        for child in item.values() if kind is dict else item:
            if type(child) is dict or type(child) is list:
                stack.append((child, level + 1))
    return deepest


def nul_path(value: Any) -> list[str | int] | None:
    """The path (keys and indexes) to the first NUL character in ``value``, in document order, or None.

    A NUL inside a key gives the path to that key. ``{"a": ["x", "y\\x00"]}`` -> ``["a", 1]``.
    """
    stack: list[tuple[Any, list]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key in item:
                if "\x00" in key:
                    return [*path, key]
            stack.extend((v, [*path, k]) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, [*path, i]) for i, v in reversed(list(enumerate(item))))
    return None


def field_name(path: list[str | int], whole: str = "body") -> str:
    """``events.3.boot_id`` for a path (``whole`` for the empty path); a NUL inside a key is shown as
    ``\\u0000``."""
    return ".".join(str(p).replace("\x00", "\\u0000") for p in path) or whole


__all__ = ["MAX_DEPTH", "depth", "field_name", "nul_path", "parse_json"]
