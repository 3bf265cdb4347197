"""Config-file errors in plain words: ``line N: key: what is wrong; use what is valid``.

With ``hymy.configfile.syntax`` (syntax errors), the one place that turns library errors into the sentences a
technician reads (``hymy status``, the journal, the kiosk screen), for the device config
(``kiosk.config``) and the provisioning file (``deploy.provisionfile``) alike. pydantic's wording never
passes through: every message names the line (found in the TOML source by ``hymy.configfile.lines``), the
key, what is wrong and what would be valid, and the valid part comes from the pydantic model itself
(a field's ``description``, else its type and constraints), so a new key gets good messages for free.

Pure: text and exceptions in, strings out. The kiosk imports it only when something is wrong, so a good
config costs its start-up nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from hymy.configfile.lines import dotted, key_line

#: Longest value shown in a message, in characters (longer ones are cut with "...").
SHOWN_MAX = 60


#: Stands in the constraints of a secret field, ``Field(json_schema_extra={"secret": True})``: no message
#: shows its value.
_HIDDEN = object()


class Problems(ValueError):
    """Several already-worded problems, each ``(key, message)``, raised from a model validator."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


# --------------------------------------------------------------------------------------------------
# Validating with a pydantic model


def check(model: type[BaseModel], data: Any, text: str | None = None, *,
          context: dict[str, Any] | None = None) -> tuple[BaseModel | None, list[str]]:
    """Validate ``data`` (parsed from ``text``) with ``model``: (instance, []) or (None, problems)."""
    try:
        return model.model_validate(data, context=context), []
    except ValidationError as exc:
        return None, validation_problems(exc, model, text)


def validation_problems(exc: ValidationError, model: type[BaseModel], text: str | None = None) -> list[str]:
    """Every error of ``exc`` as ``line N: key: what is wrong; use what is valid``, sorted by line."""
    out: list[str] = []
    for err in exc.errors():
        loc = _field_loc(model, err["loc"], err["type"])
        error = (err.get("ctx") or {}).get("error")
        if isinstance(error, Problems):
            out += [located(text, key, message) for key, message in error.problems]
        else:
            out.append(located(text, loc, _message(model, loc, err)))
    return sort_problems(out)


def located(text: str | None, key: str | tuple, message: str) -> str:
    """``line N: key: message`` (the line of ``key`` in ``text``), or ``key: message`` without one."""
    name = key if isinstance(key, str) else dotted(key)
    line = key_line(text, key) if text else None
    prefix = f"line {line}: " if line else ""
    return f"{prefix}{name}: {message}" if name else f"{prefix}{message}"


def sort_problems(problems: list[str]) -> list[str]:
    """Problems in the order of their lines (those without a line first), each once."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: int(m.group(1)) if (m := re.match(r"line (\d+):", p)) else 0)


def toml_value(value: Any) -> str:
    """``value`` as it is written in TOML (``"GPIO5"``, ``true``, ``[5, 6]``), cut at SHOWN_MAX."""
    if isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, str | PurePath):
        shown = json.dumps(str(value), ensure_ascii=False)
    elif isinstance(value, list | tuple):
        shown = "[" + ", ".join(toml_value(v) for v in value) + "]"
    elif isinstance(value, dict):
        shown = "a table"
    else:
        shown = str(value)
    return shown if len(shown) <= SHOWN_MAX else shown[: SHOWN_MAX - 3] + "..."


def valid_keys(model: type[BaseModel]) -> list[str]:
    """The keys a table of ``model`` accepts (fields excluded from dumps, like a source path, are not keys)."""
    return [name for name, f in model.model_fields.items() if not f.exclude]


def secret_keys(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The key paths of ``model`` whose values are secrets (``Field(json_schema_extra={"secret": True})``)."""
    out: set[tuple[str, ...]] = set()
    for name in valid_keys(model):
        path = (*prefix, name)
        sub = _model(model.model_fields[name].annotation)
        if sub is not None:
            out |= secret_keys(sub, path)
        elif _HIDDEN in _leaf(model, (name,))[1]:
            out.add(path)
    return out


def _field_loc(model: type[BaseModel], loc: tuple, kind: str) -> tuple:
    """pydantic's ``loc`` as config keys: internal parts (validator and union tags) left out.

    The last part of an ``extra_forbidden`` error is the unknown key itself and is kept.
    """
    out: list[Any] = []
    current: Any = model
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out.append(part)
            current = _item(current)
            continue
        sub = _model(current)
        if sub is not None and part in sub.model_fields:
            out.append(part)
            current = sub.model_fields[part].annotation
        elif kind == "extra_forbidden" and i == len(loc) - 1:
            out.append(part)
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# What a field accepts, from the model


def _unwrap(ann: Any) -> tuple[Any, list[Any], str | None]:
    """(bare type, constraints, description) of an annotation: Optional and Annotated taken apart."""
    meta: list[Any] = []
    description = None
    while True:
        if get_origin(ann) is Annotated:
            base, *extra = get_args(ann)
            for m in extra:
                if isinstance(m, FieldInfo):
                    meta += m.metadata + ([_HIDDEN] if _secret(m) else [])
                    description = description or m.description
                elif isinstance(m, at.GroupedMetadata):
                    meta += list(m)
                else:
                    meta.append(m)
            ann = base
        elif get_origin(ann) in (Union, type(int | None)) and type(None) in get_args(ann):
            rest = [a for a in get_args(ann) if a is not type(None)]
            ann = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
        else:
            return ann, meta, description


def _secret(field: FieldInfo) -> bool:
    return isinstance(field.json_schema_extra, dict) and bool(field.json_schema_extra.get("secret"))


def _model(ann: Any) -> type[BaseModel] | None:
    base = _unwrap(ann)[0]
    return base if isinstance(base, type) and issubclass(base, BaseModel) else None


def _item(ann: Any) -> Any:
    args = get_args(_unwrap(ann)[0])
    return args[0] if args else Any


def _leaf(model: type[BaseModel], loc: tuple) -> tuple[Any, list[Any], str | None]:
    """(type, constraints, description) of the field at ``loc`` (a list item when loc ends in an index)."""
    ann: Any = model
    meta: list[Any] = []
    description = None
    for part in loc:
        if isinstance(part, int):
            ann, meta, description = _item(ann), [], None
        else:
            sub = _model(ann)
            if sub is None or part not in sub.model_fields:
                return Any, [], None
            field = sub.model_fields[part]
            ann, meta, description = field.annotation, list(field.metadata), field.description
            meta += [_HIDDEN] if _secret(field) else []
        bare, more, desc = _unwrap(ann)
        meta, description = meta + more, description or desc
        ann = bare
    return ann, meta, description


def valid_text(ann: Any, meta: list[Any], description: str | None = None) -> str:
    """What a field accepts, in words: its description, else from its type and constraints."""
    if description:
        return description
    bounds = {name: getattr(m, name) for m in meta for name in ("ge", "gt", "le", "lt", "min_length", "max_length")
              if hasattr(m, name)}
    if get_origin(ann) is Literal:
        return _or([toml_value(a) for a in get_args(ann)])
    if ann is bool:
        return "true or false (no quotes)"
    if ann in (int, float):
        kind = "a whole number" if ann is int else "a number"
        lo, hi = bounds.get("ge", bounds.get("gt")), bounds.get("le", bounds.get("lt"))
        if lo is not None and hi is not None:
            return f"{kind} from {lo} to {hi} (no quotes)"
        if lo is not None or hi is not None:
            return f"{kind} {'at least ' + str(lo) if lo is not None else 'at most ' + str(hi)} (no quotes)"
        return f"{kind} (no quotes)"
    if ann is str:
        lo, hi = bounds.get("min_length"), bounds.get("max_length")
        size = f", {lo}-{hi} characters" if lo and hi else (f", at most {hi} characters" if hi else "")
        return f'text in "double quotes"{size}'
    if isinstance(ann, type) and issubclass(ann, PurePath):
        return 'a path in "double quotes", e.g. "/var/lib/hymy"'
    if get_origin(ann) is list:
        item, item_meta, item_desc = _unwrap(get_args(ann)[0]) if get_args(ann) else (Any, [], None)
        most = bounds.get("max_length")
        return (f"a list in [brackets]{f' of at most {most} items' if most is not None else ''}, each "
                f"{valid_text(item, item_meta, item_desc)}")
    if _model(ann) is not None:
        return "a table: a [header] line with its keys below it"
    return "a valid value"


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


# --------------------------------------------------------------------------------------------------
# One error -> one sentence

_NOT_A = {
    "int": "a whole number", "float": "a number", "bool": "true or false", "string": "text",
    "list": "a list", "dict": "a table", "model": "a table", "path": "a path", "literal": "one of the choices",
}
_TOO = {"greater_than_equal": "too small", "greater_than": "too small", "less_than_equal": "too large",
        "less_than": "too large"}


def _message(model: type[BaseModel], loc: tuple, err: dict[str, Any]) -> str:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown(model, loc, value)
    ann, meta, description = _leaf(model, loc)
    valid = valid_text(ann, meta, description)
    shown = "the value" if _HIDDEN in meta else toml_value(value)
    if kind == "missing":
        return f"missing; {loc[-1]} = ... is required here: {valid}"
    if kind in _TOO:
        return f"{shown} is {_TOO[kind]}; use {valid}"
    if kind in ("too_long", "too_short"):
        limit = ctx.get("max_length") if kind == "too_long" else ctx.get("min_length")
        word = "at most" if kind == "too_long" else "at least"
        return f"has {ctx.get('actual_length')} items, {word} {limit} are allowed; use {valid}"
    if kind in ("string_too_short", "string_too_long", "string_pattern_mismatch"):
        return f"{shown} is not valid; use {valid}"
    if kind in ("value_error", "assertion_error"):
        msg = str(ctx.get("error") or err["msg"])
        return f"{shown} {msg}" if not isinstance(value, dict) else msg
    prefix = kind.split("_")[0]
    numeric = prefix in ("int", "float") or (get_origin(ann) is Literal and all(
        isinstance(a, int) for a in get_args(ann)))
    if numeric and isinstance(value, str) and (digits := re.search(r"\d+", value)):
        return f"{shown} is text, not a number (write {digits.group(0)} without quotes); use {valid}"
    if prefix in _NOT_A:
        if isinstance(value, dict):
            return f"is a table, not a value; use {valid}"
        return f"{shown} is not {_NOT_A[prefix]}; use {valid}"
    msg = err["msg"]
    return f"{shown}: {msg[:1].lower() + msg[1:]}; use {valid}"


def _unknown(model: type[BaseModel], loc: tuple, value: Any) -> str:
    """An unknown key: did you mean a close name, or the same key in another table? Then the valid keys."""
    import difflib

    name, parent_loc = str(loc[-1]), loc[:-1]
    parent = _model(_leaf(model, parent_loc)[0]) or model
    keys = valid_keys(parent)
    what = "table" if isinstance(value, dict) else "key"
    hint = ""
    elsewhere = [t for t in valid_keys(model) if (sub := _model(model.model_fields[t].annotation))
                 and name in valid_keys(sub) and sub is not parent]
    close = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
    if elsewhere and what == "key":
        hint = f"; did you mean [{elsewhere[0]}] {name}? Write it below the [{elsewhere[0]}] header."
    elif close:
        hint = f"; did you mean {f'[{close[0]}]' if parent is model else close[0]}?"
    tables = all(_model(parent.model_fields[k].annotation) for k in keys)
    where = f"Valid {'tables' if tables else 'keys'}" if parent is model else f"Valid keys in [{dotted(parent_loc)}]"
    return f"unknown {what}{hint or '.'} {where}: {', '.join(keys)}"
