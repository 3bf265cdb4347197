"""The kiosk's languages: gettext catalogs in ``assets/locale`` (extracted and compiled with Babel).

Message ids are English; Finnish is the default language a kiosk returns to after every response.
Texts that a store decides (the question, reasons, praise targets) are not here: they come from the
store config with one text per language (``hymy.protocol.Texts``). Nothing here imports Kivy.

``Translator`` holds the current language; ``gettext`` looks a message up in it. The Kivy app
exposes the same lookup to .kv files as ``app.tr('Skip', app.lang)`` (passing ``app.lang`` makes
Kivy re-evaluate the text when the language changes).
"""

from __future__ import annotations

import gettext as _gettext
from functools import cache

import assets


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (looked up later with ``_``)."""
    return message


#: Message whose translation in each catalog is that language's own name (for the language buttons).
LANGUAGE_NAME = N_("This language in its own name")
#: Languages the kiosk ships catalogs for, in the order the language buttons show them.
LANGUAGES = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"


@cache
def catalog(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang``; a pass-through (English ids) when none exists."""
    return _gettext.translation(assets.DOMAIN, str(assets.locale_dir()), languages=[lang], fallback=True)


def language_name(lang: str) -> str:
    """The language's own name (``fi`` -> ``Suomi``), as its catalog's translators wrote it.

    (Babel's CLDR data has the same names, but loading it costs ~0.1 s at every start.)
    """
    return catalog(lang).gettext(LANGUAGE_NAME)


def default_language(available: list[str] | tuple[str, ...] = LANGUAGES) -> str:
    """Finnish when the store offers it, else the store's first language."""
    return DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in available else (list(available) or [DEFAULT_LANGUAGE])[0]


class Translator:
    """The current language and lookups in it (one per app; tests make their own)."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE):
        self.lang = DEFAULT_LANGUAGE
        self.switch(lang)

    def switch(self, lang: str) -> None:
        """Change the language; ValueError naming the valid codes for an unknown one."""
        if lang not in LANGUAGES:
            raise ValueError(f"language: {lang!r} is not available; use one of {', '.join(LANGUAGES)}")
        self.lang = lang

    def gettext(self, message: str) -> str:
        return catalog(self.lang).gettext(message)

    __call__ = gettext


#: The process-wide translator ``_`` uses (the app switches it; one screen, one language at a time).
translator = Translator()


def _(message: str) -> str:
    """Translate ``message`` (an English id) into the current language."""
    return translator.gettext(message)
