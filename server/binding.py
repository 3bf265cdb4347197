"""Lists and rows bound to a statement as one value, so a statement's text (and the driver's and the
database's cache of it) does not change with their length.

- a list of ids: PostgreSQL an array (``= ANY(...)``), SQLite a JSON array read with ``json_each``
  (:func:`in_ids` for SQLAlchemy statements, :func:`in_list` for driver SQL, :func:`ids_value` the value);
- rows of a table (PostgreSQL): one JSON array of objects read with ``json_populate_recordset`` and the
  table's own row type (:func:`json_rows`, :func:`json_param`); an array per column cost psycopg a type
  look-up and a dump per column, 0.3-0.5 ms of a 1-event batch (docs/server.md).
"""

from __future__ import annotations

import json

from sqlalchemy import ARRAY, String, any_, bindparam, func, select


def in_ids(dialect: str, column):
    """``column IN :ids`` with the whole list as one bound value named ``ids`` (PostgreSQL
    ``= ANY(array)``, SQLite ``IN (SELECT value FROM json_each(json))``): one cached statement whatever the
    list's length, instead of hundreds of placeholders rendered each time. Pass ``ids_value(dialect, ids)``."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=ARRAY(String)))
    return column.in_(select(func.json_each(bindparam("ids", type_=String)).table_valued("value").c.value))


def ids_value(dialect: str, ids) -> object:
    """The value of :func:`in_ids`'s ``ids`` parameter, and of :func:`in_list`'s."""
    return list(ids) if dialect == "postgresql" else json.dumps(list(ids))


def in_list(dialect: str, sql: str) -> str:
    """Driver SQL (``?`` placeholders, for ``server.db.read_rows`` and the cursors of ``server.db.raw_writing``) with
    each ``IN (:ids)`` made a test against a list bound as one value, :func:`ids_value` (PostgreSQL ``= ANY(?)``,
    SQLite ``IN (SELECT value FROM json_each(?))``), as :func:`in_ids` does for SQLAlchemy statements."""
    if dialect == "postgresql":
        return sql.replace("IN (:ids)", "= ANY(?)")
    return sql.replace("IN (:ids)", "IN (SELECT value FROM json_each(?))")


def json_rows(table, param: str) -> str:
    """PostgreSQL: a row source ``u`` with ``table``'s columns and types (select them by name), from the JSON
    array of objects bound as ``%(param)s`` (:func:`json_param`): one text value for any number of rows,
    where an array per column cost psycopg a type look-up and a dump per column (0.3 ms of a 1-event batch)."""
    return f"json_populate_recordset(NULL::{table.name}, %({param})s::json) AS u"


def json_param(columns: list[str], rows: list) -> str:
    """The value of a :func:`json_rows` parameter: each of ``rows`` (a dict with at least ``columns`` as keys,
    or a tuple of their values in that order) as an object of ``columns``."""
    if rows and isinstance(rows[0], dict):
        return json.dumps([{c: r[c] for c in columns} for r in rows], separators=(",", ":"))
    return json.dumps([dict(zip(columns, r, strict=True)) for r in rows], separators=(",", ":"))
