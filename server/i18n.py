"""The server's text in Finnish, Swedish and English (Babel catalogs in ``server/locale/``): the
dashboard's pages, alert notices and reports share one catalog per language (domain ``server``).

Catalogs are gettext ``.po`` files compiled in memory at first use, so a checkout runs without a
build step. The dashboard speaks the reader's language; notices and reports the store's
(``server.alerts.language``). A dashboard user's language is remembered in the ``hymy_lang`` cookie
(one year); without it the browser's Accept-Language decides, then Finnish. Dates and weekday names come from Babel's CLDR data.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.dates import format_interval as _babel_format_interval
from babel.dates import format_time as _babel_format_time
from babel.dates import get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGS = ("fi", "sv", "en")
DEFAULT_LANG = "fi"
LANG_COOKIE = "hymy_lang"
LANG_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "server"


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang`` (fi, sv, en); English is the msgid itself."""
    if lang not in LANGS:
        raise ValueError(f"lang: {lang!r} is not supported; use one of {', '.join(LANGS)}")
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext_for(lang: str):
    """``_`` for templates and code: ``_("Today")`` in ``lang``; ``_("%(n)s days", n=30)`` formats."""
    t = translations(lang)

    def _(message: str, **kw) -> str:
        text = t.gettext(message)
        return text % kw if kw else text

    return _


def ngettext_for(lang: str):
    """``n_`` for counted texts: ``n_("%(n)s open alert", "%(n)s open alerts", 3)`` in ``lang`` with the
    language's plural form for ``n`` (the catalog's ``msgid_plural`` entries); ``n`` fills ``%(n)s``."""
    t = translations(lang)

    def n_(singular: str, plural: str, n: int, **kw) -> str:
        return t.ngettext(singular, plural, n) % {"n": n, **kw}

    return n_


def format_range(first: date, last: date, lang: str) -> str:
    """A period's dates with the year where it is needed (Babel's CLDR interval formats): "1.–6.
    joulukuuta 2026"; across years "7 Dec 2025 – 6 Dec 2026" (English as written in Britain, like
    :func:`format_day`)."""
    return _babel_format_interval(first, last, "yMMMd", locale="en_GB" if lang == "en" else lang)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language to use: the remembered cookie, else the best Accept-Language match, else Finnish."""
    if cookie in LANGS:
        return cookie  # type: ignore[return-value]
    if accept_language:
        weighted = []
        for part in accept_language.split(","):
            bits = part.strip().split(";q=")
            tag = bits[0].strip().lower()
            try:
                q = float(bits[1]) if len(bits) > 1 else 1.0
            except ValueError:
                q = 0.0
            weighted.append((q, tag))
        for _q, tag in sorted(weighted, key=lambda x: -x[0]):
            base = tag.split("-")[0]
            if base in LANGS:
                return base
    return DEFAULT_LANG


def weekday_names(lang: str, width: str = "abbreviated", context: str = "format") -> list[str]:
    """Monday-first weekday names in ``lang`` (``abbreviated`` "ma", or ``wide`` "maanantaina"); with
    ``context="stand-alone"`` as a word on its own ("maanantai": "a usual %(day)s")."""
    names = get_day_names(width, context=context, locale=Locale.parse(lang))
    return [names[i] for i in range(7)]


def format_day(d: date, lang: str, pattern: str = "EEE d.M.") -> str:
    """A short local date for labels ("ma 23.11." / "mån 23.11." / "Mon 23.11.")."""
    if lang == "en" and pattern == "EEE d.M.":
        pattern = "EEE d MMM"
    return _babel_format_date(d, pattern, locale=lang)


def format_day_time(local: datetime, lang: str) -> str:
    """A local date and time for lists ("ma 23.11. 14:05" / "Mon 23 Nov 14:05"): ``local`` already in the
    zone it is shown in."""
    return format_day(local.date(), lang) + local.strftime(" %H:%M")


def format_long_day(d: date, lang: str) -> str:
    return _babel_format_date(d, "full", locale=lang)


def format_clock(at: time, lang: str) -> str:
    """A time of day as the language writes it: "8.00" in Finnish, "08:00" in Swedish and English."""
    return _babel_format_time(at, "short", locale="en_GB" if lang == "en" else lang)


__all__ = ["LANGS", "LANG_COOKIE", "LANG_NAMES", "DEFAULT_LANG", "gettext_for", "ngettext_for", "negotiate",
           "translations", "weekday_names", "format_day", "format_day_time", "format_long_day", "format_range", "format_clock"]
