"""TOML files that cannot be read, in plain words: ``line N: key: TOML syntax error: what to write``.

``tomllib`` says "Illegal character '\\n' (at line 2, column 21)"; a technician should read which
line and key, what is wrong and how to write it instead. Used by ``kiosk.config`` and
``deploy.provisionfile`` (``hymy.configfile.messages`` words what pydantic finds wrong in a file that parses).
Pure; the kiosk imports it only when something is wrong.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from hymy.configfile.lines import key_at
from hymy.errors import ConfigError


def decode(raw: bytes) -> str:
    """UTF-8 text of a config file, or ConfigError naming the line of the first bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02X}); save the file as "
                          f"UTF-8 (in most editors: Save as -> Encoding UTF-8)") from None


def load_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads`` whose syntax error names the line and key in plain words (ConfigError)."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(syntax_problem(str(exc), text)) from None


def file_error(raw: bytes, path: str | PurePath) -> ConfigError:
    """The ConfigError for a file ``tomllib`` refused (not UTF-8, or a syntax error), naming ``path``."""
    try:
        load_toml(decode(raw))
    except ConfigError as exc:
        return ConfigError(exc.problems, str(path))
    return ConfigError("cannot be read as TOML", str(path))


_AT = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)$")
_UNCLOSED_STRING = ('a text value is not closed: end it with the quote it starts with, on the same line '
                    '(only """triple quotes""" may span lines)')
#: tomllib's messages (3.11-3.13) -> what a technician should read. First match wins.
_SYNTAX: list[tuple[str, str]] = [
    (r"Illegal character '\\n'|Found invalid character '\\n'|Unterminated string|Expected '\"\"\"'|"
     r"Expected \"'''\"|Expected \"'\"", _UNCLOSED_STRING),
    (r"Illegal character|Found invalid character",
     "an invisible control character is in the line; retype the line (only tabs are allowed)"),
    (r"Invalid value", 'the value is missing or not valid: write text in "double quotes", numbers and '
     "true/false without quotes, lists as [5, 6]"),
    (r"Expected '=' after a key", 'expected key = value (text in "double quotes")'),
    (r"Expected newline or end of document", 'one key = value per line; text after a value must start '
     'with # (a comment), and text values go in "double quotes"'),
    (r"Invalid statement", "not a key = value line, a [table] header or a # comment"),
    (r"Cannot declare \((.*)\) twice", "the table [{0}] is written twice; keep one [{0}] header with all "
     "its keys below it"),
    (r"Cannot overwrite a value|Duplicate inline table key", "this key is given twice; keep one"),
    (r"Cannot (?:mutate immutable|redefine) namespace", "this table is also written elsewhere; write each "
     "table once, as a [table] header with its keys below it"),
    (r"Expected '\]' at the end of a table declaration|Expected '\]\]'",
     "a [table] header must end with ] on the same line"),
    (r"Unclosed array", "a list is not closed: separate the items with commas and end it with ]"),
    (r"Unclosed inline table", "an inline table is not closed: end it with } on the same line"),
    (r"Invalid initial character for a key", 'a key is letters, digits, _ and - (or "quoted")'),
    (r"Unescaped '\\' in a string", 'a backslash in "double quotes" starts an escape: write \\\\ or '
     "use 'single quotes' for the text"),
    (r"Invalid hex value|not a Unicode scalar", "a \\u escape in the text is not a valid character code"),
    (r"Invalid date", "not a valid date or time; write dates as 2026-11-23"),
]


def syntax_problem(message: str, text: str) -> str:
    """tomllib's ``message`` (with its "(at line N, column C)") as ``line N: key: TOML syntax error: ...``."""
    m = _AT.search(message)
    raw = _AT.sub("", message)
    line = int(m.group(1)) if m and m.group(1) else (text.count("\n") + (0 if text.endswith("\n") else 1))
    plain = raw
    for pattern, words in _SYNTAX:
        found = re.search(pattern, raw)
        if found:
            groups = [", ".join(_strip_quotes(g)) for g in found.groups()]
            plain = words.format(*groups) if groups else words
            break
    opener = _OPENERS.get(raw.split(" (")[0])
    if opener:  # tomllib notices a missing ] or } where it gave up: name the line that opened it
        line = _opened_at(text, line, opener)
    key = key_at(text, line)
    return f"line {line}: " + (f"{key}: " if key else "") + f"TOML syntax error: {plain}"


#: tomllib messages about something left open -> the text that opens it.
_OPENERS = {"Unclosed array": "[", "Unclosed inline table": "{", "Unterminated string": '"""'}


def _opened_at(text: str, line: int, opener: str) -> int:
    """The last line up to ``line`` whose value starts with ``opener`` (``key = [``), else ``line``."""
    lines = text.splitlines()
    for no in range(min(line, len(lines)), 0, -1):
        if re.search(r"=\s*" + re.escape(opener), lines[no - 1]):
            return no
    return line


def _strip_quotes(tuple_repr: str | None) -> list[str]:
    return [p.strip().strip("'\"") for p in (tuple_repr or "").split(",") if p.strip()]
