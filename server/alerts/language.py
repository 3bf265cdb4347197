"""The language of a store's notices and reports, and text, numbers and dates in it.

A store speaks the FIRST language of its config (``StoreConfig.languages[0]``: fi, sv or en;
Finnish when the config names none we know). Recipients are plain e-mail addresses and webhook URLs,
not users with a language of their own, so the store decides, as it does for the labels of reasons
and praise in reports.

The words come from the server's catalogs (``server.i18n``: English msgids, Finnish
and Swedish ``.po`` files); this module only makes them safe for mail that must go out whatever
happens: an unknown language, a missing entry or a broken placeholder in a translation gives the
English text, never an exception. Numbers and dates use Babel's CLDR data for the language.

``summary`` puts the stored alert sentences (``hymy.rules.Evaluation.describe``, always English:
the database, the API and the webhook's ``alert.summary`` keep them as they are) into the
language, by reading the figures back out of the sentence with patterns made from the same templates
(``hymy.rules.sentences()``: each rule kind's and the others). A sentence of another shape stays English.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from hymy.hours import zone
from hymy.rules import sentences
from hymy.timestamps import format_ts
from server.i18n import LANGS, translations

#: The language of a store whose config names none of ``LANGS``.
DEFAULT_LANG = "fi"

Gettext = Callable[..., str]


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name)
    """Marks a msgid kept in data and translated later with ``gettext(lang)(msgid)``; returns it as is."""
    return msgid


def store_language(cfg) -> str:
    """The first of ``cfg.languages`` (a ``StoreConfig``) that Hymy speaks; Finnish otherwise or without a config."""
    for lang in getattr(cfg, "languages", None) or ():
        if lang in LANGS:
            return lang
    return DEFAULT_LANG


def gettext(lang: str) -> Gettext:
    """``_(msgid, **values)`` in ``lang``: the translation with ``%(name)s`` values filled in; the
    English msgid when ``lang`` is unknown, the entry is missing or its placeholders do not fit."""
    try:
        catalog = translations(lang)
    except ValueError:
        catalog = None

    def _(msgid: str, **values) -> str:
        text = catalog.gettext(msgid) if catalog is not None else msgid
        try:
            return text % values if values else text
        except (KeyError, TypeError, ValueError):
            return msgid % values
    return _


def _known(lang: str) -> str:
    return lang if lang in LANGS else "en"


def number(value: float, lang: str) -> str:
    """``value`` as the language writes it: ``37,5`` and ``1 234`` in fi and sv, ``1,234`` in en."""
    return format_decimal(value, locale=_known(lang))


def day(d: date, lang: str, pattern: str = "EEE dd.MM.yyyy") -> str:
    """``d`` with the language's weekday names: ``ma 23.11.2026``, ``mån 23.11.2026``, ``Mon 23.11.2026``."""
    return format_date(d, pattern, locale=_known(lang))


def moment(at: datetime, lang: str, timezone: str | None) -> str:
    """An instant for people: RFC 3339 UTC in English (as before), the store's local short date and
    time in fi and sv (``23.11.2026 12.00 (Europe/Helsinki)``); UTC when the zone is unknown."""
    if _known(lang) == "en":
        return format_ts(at)
    tz = timezone or "UTC"
    try:
        return f"{format_datetime(at, 'short', tzinfo=zone(tz), locale=lang)} ({tz})"
    except (ValueError, LookupError):  # a zone this machine does not know
        return format_ts(at)


_NUM = r"(-?[0-9][0-9.e+]*)"


def _pattern(msgid: str) -> re.Pattern[str]:
    """The English sentence ``msgid`` formats, with each named value captured as a number."""
    parts = re.split(r"(%\(\w+\)s)", msgid.replace("%%", "%"))
    return re.compile("".join(_NUM if re.fullmatch(r"%\(\w+\)s", p) else re.escape(p) for p in parts))


@lru_cache(maxsize=4)
def _patterns(msgids: tuple[str, ...]) -> list[tuple[re.Pattern[str], str]]:
    """Each msgid with the pattern of the English sentence it formats."""
    return [(_pattern(msgid), msgid) for msgid in msgids]


def _sentences() -> list[tuple[re.Pattern[str], str]]:
    """``Evaluation.describe``'s sentences (``hymy.rules.sentences()``, and the engine's own "rule
    removed"), as patterns made from the same templates, and the msgid that says the same with the
    figures as values."""
    return _patterns((*sentences(), N_("rule removed")))
_TEST = re.compile(r"test from (.*?): (.*)")


def summary(text: str, lang: str) -> str:
    """An alert sentence (English, as stored) in ``lang``, numbers written the language's way;
    ``text`` itself in English or when its shape is not one we know."""
    if _known(lang) == "en" or not text:
        return text
    _ = gettext(lang)
    test = _TEST.fullmatch(text)
    if test:
        return _("test from %(who)s: %(what)s", who=test.group(1), what=summary(test.group(2), lang))
    for pattern, msgid in _sentences():
        m = pattern.fullmatch(text)
        if m is None:
            continue
        names = re.findall(r"%\((\w+)\)s", msgid)
        try:
            values = {k: number(float(v), lang) for k, v in zip(names, m.groups(), strict=True)}
        except ValueError:
            return text
        return _(msgid, **values)
    return text


__all__ = ["DEFAULT_LANG", "N_", "day", "gettext", "moment", "number", "store_language", "summary"]
