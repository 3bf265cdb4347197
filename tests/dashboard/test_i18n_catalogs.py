"""Every text the dashboard shows has a Finnish and a Swedish translation, with the same placeholders;
counted texts (``n_``) have every plural form of the language.

The texts are found by Babel's own extraction (``server/babel.cfg``: the Python modules and the Jinja2
templates, keywords ``_`` and ``n_``), as ``pybabel extract`` would find them.
"""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

SERVER = Path(__file__).resolve().parents[2] / "server"
ROOT = SERVER / "dashboard"
KEYWORDS = {"_": None, "N_": None, "n_": (1, 2)}
PLACEHOLDER = re.compile(r"%\([a-z]+\)s|%%")


def used_msgids() -> set[str | tuple[str, str]]:
    """Every msgid Babel extracts from server/dashboard (plural ones as (singular, plural))."""
    with open(SERVER / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    return {m[2] for m in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)}


def test_extraction_finds_templates_modules_and_plurals():
    used = used_msgids()
    assert len(used) > 100
    assert "Today" in used and "Lower than usual" in used  # a module's and a template's
    assert ("%(n)s open alert", "%(n)s open alerts") in used


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_catalog_translates_every_dashboard_text(lang):
    with open(SERVER / "locale" / lang / "LC_MESSAGES" / "server.po", "rb") as fh:
        catalog = read_po(fh, locale=lang)
    used = used_msgids()
    missing = sorted(str(m) for m in used if not (catalog.get(m) and all(
        catalog.get(m).string if isinstance(m, tuple) else [catalog.get(m).string])))
    assert missing == []
    for m in used:
        forms = catalog.get(m).string
        if isinstance(m, tuple):
            assert len(forms) == catalog.num_plurals, m
            for form in forms:
                assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(m[1])), m
        else:
            assert sorted(PLACEHOLDER.findall(forms)) == sorted(PLACEHOLDER.findall(m)), m
