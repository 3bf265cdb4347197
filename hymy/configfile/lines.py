"""Where a key is written in TOML source: line numbers for config error messages.

``tomllib`` returns plain dicts without positions, so this scans the text itself: ``[table]``
headers, ``key = value`` lines, dotted and quoted keys (``wifi.password = ...``, ``"a b" = ...``)
and inline tables (``pins = { buttons = [5] }``, found as the line of ``pins``). Pure: text in,
line numbers out (1-based, like an editor's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_BARE = r"[A-Za-z0-9_\-]+"
_PART = rf'(?:{_BARE}|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_KEY = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_KEY})\s*\]?\]?")
_ASSIGN = re.compile(rf"^\s*({_KEY})\s*=")
_SPLIT = re.compile(_PART)

Path_ = tuple[str, ...]


def _parts(key: str) -> Path_:
    """``a."b.c".d`` -> ``("a", "b.c", "d")``."""
    out = []
    for m in _SPLIT.finditer(key):
        part = m.group(0)
        if part[0] in "\"'":
            part = part[1:-1]
        out.append(part)
    return tuple(out)


def statements(text: str) -> Iterable[tuple[int, Path_]]:
    """Each header or assignment: (line number, full key path). Comments and blank lines are skipped."""
    table: Path_ = ()
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            m = _HEADER.match(line)
            if m:
                table = _parts(m.group(1))
                yield no, table
            continue
        m = _ASSIGN.match(line)
        if m:
            yield no, table + _parts(m.group(1))


def key_lines(text: str) -> dict[Path_, int]:
    """The first line of every key path and of each of its parents (``("pins",)``, ``("pins", "buttons")``)."""
    lines: dict[Path_, int] = {}
    for no, path in statements(text):
        for n in range(1, len(path) + 1):
            lines.setdefault(path[:n], no)
    return lines


def key_line(text: str, key: str | Iterable[str | int]) -> int | None:
    """The line where ``key`` (dotted ``"pins.buttons[2]"`` or a tuple of parts) is written, or None.

    When the key itself is not in the text (a missing key, a key inside an inline table), the line of
    its nearest parent that is (the ``[wifi]`` header for ``wifi.ssid``); None when no part is.
    """
    path = _as_path(key)
    lines = key_lines(text)
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def key_at(text: str, line: int) -> str | None:
    """The dotted key written on ``line`` (or the table whose header is there), or None.

    For syntax errors: tomllib names a position, this names the key the technician was writing.
    Only the lines before ``line`` need to be valid TOML.
    """
    table: Path_ = ()
    for no, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.lstrip()
        header = _HEADER.match(stripped) if stripped.startswith("[") else None
        if no == line:
            if header:
                return ".".join(_parts(header.group(1)))
            m = _ASSIGN.match(stripped) or re.match(rf"^\s*({_KEY})\s*(?:$|[^.\w\-\"'])", stripped)
            if m and not stripped.startswith("#"):
                return ".".join(table + _parts(m.group(1)))
            return ".".join(table) or None
        if header:
            table = _parts(header.group(1))
    return None


def dotted(key: Iterable[str | int]) -> str:
    """``("pins", "buttons", 2)`` -> ``"pins.buttons[2]"``."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _as_path(key: str | Iterable[str | int]) -> Path_:
    if isinstance(key, str):
        return _parts(re.sub(r"\[\d+\]", "", key))
    return tuple(str(p) for p in key if not isinstance(p, int))
