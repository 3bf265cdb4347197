"""Every text the dashboard shows has a Finnish and a Swedish translation, with the same placeholders."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

SERVER = Path(__file__).resolve().parents[2] / "server"
ROOT = SERVER / "dashboard"
PAT = re.compile(r"""_\(\s*(['"])((?:\\.|(?!\1).)*)\1""")
PLACEHOLDER = re.compile(r"%\([a-z]+\)s|%%")


def used_msgids() -> set[str]:
    found = set()
    for p in list(ROOT.glob("*.py")) + list(ROOT.glob("templates/*.html")):
        found.update(m.group(2) for m in PAT.finditer(p.read_text()))
    return found


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_catalog_translates_every_dashboard_text(lang):
    with open(SERVER / "locale" / lang / "LC_MESSAGES" / "server.po", "rb") as fh:
        catalog = read_po(fh, locale=lang)
    used = used_msgids()
    assert len(used) > 100
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    assert missing == []
    for m in used:
        assert sorted(PLACEHOLDER.findall(catalog.get(m).string)) == sorted(PLACEHOLDER.findall(m)), m
