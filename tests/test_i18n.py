"""Languages: every string is translatable, and Polish is complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from .factories import make_partners
from .journey import errors, post

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "mantra" / "translations" / "pl" / "LC_MESSAGES" / "messages.po"


def test_every_message_in_the_code_has_a_polish_translation():
    catalog = read_po(PO.open("rb"))
    translated = {(m.context, m.id) for m in catalog if m.id and m.string and not m.fuzzy}
    method_map = [("mantra/**.py", "python"), ("mantra/**/templates/**.html", "jinja2")]
    keywords = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "pgettext": ((1, "c"), 2)}
    found = {
        (context, msg if isinstance(msg, str) else msg[0])
        for _, _, msg, _, context in extract_from_dir(str(ROOT), method_map, keywords=keywords)
    }
    assert len(found) > 250
    assert sorted(found - translated) == []


def test_choosing_polish_changes_the_page_language_and_error_messages(client):
    make_partners()
    response = client.get("/language/pl?next=/report/who")
    assert response.headers["Location"] == "/report/who"
    page = client.get("/report/who")
    assert '<html lang="pl"' in page.text and "Opuść tę stronę" in page.text
    assert 'lang="en" hreflang="en"' in page.text  # the way back to English is marked as English
    failed = post(client, "/report/who", {})
    assert errors(failed.text) and "Select who" not in failed.text
    assert "Błąd:" in failed.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/%09/evil.example",
        "/\\evil.example",
        "/%0d%0a/evil.example",
        "javascript:alert(1)",
    ],
)
def test_the_language_switch_only_returns_to_this_site(client, target):
    assert client.get(f"/language/pl?next={target}").headers["Location"] == "/"


def test_the_character_count_speaks_polish_with_its_plural_forms(client):
    make_partners()
    client.get("/language/pl")
    from .journey import answer_until

    answer_until(client, "account")
    page = client.get("/report/account").text
    assert "Możesz wpisać do 10000 znaków" in page
    for form in ("znak", "znaki", "znaków"):
        assert f"Możesz wpisać jeszcze %{{count}} {form}" in page
    assert "characters remaining" not in page
