"""Every UI string has an English translation, and the compiled catalog matches the source."""
from __future__ import annotations

from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
CATALOG = ROOT / "web" / "translations" / "en" / "LC_MESSAGES"


def test_every_ui_string_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-o", str(pot), "--no-location", str(ROOT)])
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (CATALOG / "messages.po").open("rb") as fh:
        translated = {m.id: m.string for m in read_po(fh) if m.id}
    missing = sorted(w for w in wanted if not translated.get(w))
    assert len(wanted) > 50
    assert not missing, f"untranslated (run pybabel update, see docs/architecture.md): {missing}"


def test_compiled_catalog_is_up_to_date():
    with (CATALOG / "messages.po").open("rb") as fh:
        source = {m.id: m.string for m in read_po(fh) if m.id}
    with (CATALOG / "messages.mo").open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == source, "run: pybabel compile -d web/translations"


def test_english_pages(client, make_user, login):
    make_user("admin1", role="admin")
    login("admin1")
    page = client.get("/admin/works?lang=en").get_data(as_text=True)
    assert "Entries" in page and "Recommending unit" in page
