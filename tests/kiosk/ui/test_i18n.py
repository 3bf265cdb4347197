"""Catalogs: complete in every language, compiled .mo files current, no text outside gettext."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import assets
from kiosk.i18n import LANGUAGES, Translator, default_language, language_name
from tests import procs

ROOT = Path(__file__).resolve().parents[3]
KV_FILES = sorted((ROOT / "kiosk" / "ui").glob("*.kv"))


def catalog(lang):
    with open(assets.locale_dir() / lang / "LC_MESSAGES" / "hymy.po", "rb") as f:
        return read_po(f, locale=lang)


def test_i18n_every_message_translated_in_every_language():
    with open(assets.locale_dir() / "hymy.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    assert len(template) > 40
    for lang in LANGUAGES:
        po = catalog(lang)
        ids = {m.id for m in po if m.id}
        assert ids == template, f"{lang}: catalog out of date with the template (pybabel update)"
        missing = [m.id for m in po if m.id and (not m.string or m.fuzzy)]
        assert not missing, f"{lang}: untranslated {missing}"


def test_i18n_compiled_mo_matches_po():
    for lang in LANGUAGES:
        po = {m.id: m.string for m in catalog(lang) if m.id}
        with open(assets.locale_dir() / lang / "LC_MESSAGES" / "hymy.mo", "rb") as f:
            mo = {m.id: m.string for m in read_mo(f) if m.id}
        assert mo == po, f"{lang}: hymy.mo is stale; run pybabel compile -d assets/locale -D hymy"


def test_i18n_template_has_every_string_in_the_code(tmp_path):
    """Babel extraction over kiosk/ (.py and .kv) finds exactly the template's messages."""
    out = tmp_path / "fresh.pot"
    procs.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "assets" / "babel.cfg"),
               "-k", "tr:1", "-k", "N_", "--no-location", "-o", str(out), str(ROOT / "kiosk")],
              check=True, capture_output=True, cwd=ROOT)
    with open(out, "rb") as f:
        fresh = {m.id for m in read_po(f) if m.id}
    with open(assets.locale_dir() / "hymy.pot", "rb") as f:
        committed = {m.id for m in read_po(f) if m.id}
    assert fresh == committed


def test_i18n_kv_has_no_hard_coded_visible_text():
    """Every ``text:``/``hint_text:`` in the .kv files is a translation call or a bound value, never a literal word."""
    assert [kv.name for kv in KV_FILES] == ["customer.kv", "kiosk.kv", "maintenance.kv"]
    lines = [(kv.name, n, line) for kv in KV_FILES for n, line in enumerate(kv.read_text(encoding="utf-8").splitlines(), 1)]
    for name, n, line in lines:
        m = re.match(r"\s*(text|hint_text):\s*(.+)$", line)
        if not m:
            continue
        expr = m.group(2)
        expr = re.sub(r"app\.tr\('[^']*', app\.lang\)", "", expr)
        expr = re.sub(r"==\s*'[^']*'", "", expr)  # comparisons are not shown
        literals = re.findall(r"'([^']*)'", expr)
        worded = [lit for lit in literals if re.search(r"[A-Za-zÅÄÖåäö]{2,}", lit)]
        assert not worded, f"{name}:{n}: hard-coded text {worded}"


def test_i18n_translator_switches_and_rejects_unknown():
    t = Translator()
    assert t.lang == "fi" and t("Thank you!") == "Kiitos!"
    t.switch("sv")
    assert t("Thank you!") == "Tack!"
    t.switch("en")
    assert t("Thank you!") == "Thank you!"
    with pytest.raises(ValueError, match="use one of fi, sv, en"):
        t.switch("de")


def test_i18n_language_names_are_their_own_names():
    assert [language_name(lang) for lang in LANGUAGES] == ["Suomi", "Svenska", "English"]


def test_i18n_default_language_is_finnish_when_offered():
    assert default_language(["sv", "fi"]) == "fi"
    assert default_language(["sv", "en"]) == "sv"


def test_i18n_catalog_headers_name_the_language():
    for lang in LANGUAGES:
        buf = io.BytesIO((assets.locale_dir() / lang / "LC_MESSAGES" / "hymy.po").read_bytes())
        assert str(read_po(buf).locale) == lang
