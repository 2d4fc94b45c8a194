"""The message catalog page: every template of templates/sms in Spanish and English, rendered
with sample data, with its GSM-7 check and segment count; the reply vocabulary as the
interpreter reads it; read by every signed-in role."""

from __future__ import annotations

import html as markup
import re

import pytest

from bot.console.catalog import SAMPLES, vocabulary
from bot.console.i18n import strings
from bot.conversation.vocabulary import (
    ACK_WORDS,
    EMERGENCY_WORDS,
    FINE_WORDS,
    OPT_OUT_WORDS,
    RESOLVE_WORDS,
)
from escalation.base.messages import LANGUAGES, is_gsm7, segments, template_names, variables
from escalation.base.models import ADMIN, COORDINATOR, MENTAL_HEALTH, SUPERVISOR
from tests.console_helpers import account
from tests.console_session import signed_in

ROLES = {
    ADMIN: {},
    COORDINATOR: {"university": "UANL"},
    SUPERVISOR: {"municipality": "Doctor Arroyo"},
    MENTAL_HEALTH: {"university": "UANL"},
}
# One preview: the language, its text, its GSM-7 label and its segment count.
PREVIEW = re.compile(
    r'<td data-label="(\w+)" lang="\w+">\s*<p class="preview">(.*?)</p>\s*'
    r'<small class="meta (?:ok|error)" data-segments="(\d+)">\s*(GSM-7|fuera de GSM-7) · '
    r"(\d+) de (\d+) septetos · (\d+) segmentos?\b",
    re.S,
)


def catalog_page(client, faro, role: str) -> str:
    email = f"{role}@faro.mx"
    account(faro, email, role=role, **ROLES[role])
    signed_in(client, email)
    answer = client.get("/admin/messages")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def rows(html: str) -> dict[str, str]:
    """Each template's row of the table, by template name."""
    found = re.findall(r'<tr id="template-(\w+)">(.*?)</tr>', html, re.S)
    return dict(found)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_signed_in_role_reads_the_catalog(client, faro, people, role):
    html = catalog_page(client, faro, role)
    assert len(rows(html)) == len(template_names("es"))


def test_it_needs_a_session(client, faro):
    answer = client.get("/admin/messages")
    assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]


def test_every_template_in_both_languages_with_its_gsm7_check_and_segment_count(
    client, faro, people
):
    html = catalog_page(client, faro, ADMIN)
    table = rows(html)
    assert sorted(table) == template_names("es") == template_names("en")
    assert len(table) >= 80  # the catalog as it stands: a new template adds a row
    for name, row in table.items():
        previews = PREVIEW.findall(row)
        assert [p[0] for p in previews] == list(LANGUAGES), name
        for _language, text, count, label, septets, room, shown in previews:
            text = markup.unescape(text)
            assert int(count) == int(shown) == segments(text), (name, text)
            assert (label == "GSM-7") == is_gsm7(text), (name, text)
            assert int(septets) <= int(room)
            assert int(count) <= 2, f"{name} takes {count} segments"
    alert = markup.unescape(table["alert_missed_checkin"])
    assert "FARO: Ana Lopez Garcia (Centro de Salud Rural San Jose, Galeana) no respondio" in alert
    assert "Caso 4821: responde ATIENDO 4821." in alert
    assert "did not answer the daily check-in of 02:14" in alert  # and in English
    assert "se dice en una llamada" in table["voice_emergency"]


def test_every_variable_of_every_template_has_a_sample():
    used = {v for lang in LANGUAGES for name in template_names(lang) for v in variables(name, lang)}
    assert sorted(used - SAMPLES.keys()) == [], "add to bot.console.catalog.SAMPLES"


def test_the_reply_vocabulary_is_the_interpreters(client, faro, people):
    html = markup.unescape(catalog_page(client, faro, COORDINATOR))
    shown = set(re.findall(r"<kbd>(.*?)</kbd>", html))
    for words in (EMERGENCY_WORDS, OPT_OUT_WORDS, FINE_WORDS):
        assert words <= shown, sorted(words - shown)
    for word in ACK_WORDS | RESOLVE_WORDS:
        assert f"{word} <código>" in shown, word
    assert {"1", "2", "9"} <= shown  # the digits menu
    assert "SOS" not in shown  # as the code reads them: lower case


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_meaning_has_a_label(app, language):
    with app.test_request_context():
        meanings = [v["meaning"] for group in vocabulary().values() for v in group]
    missing = [m for m in meanings if f"catalog.vocab.{m}" not in strings(language)]
    assert missing == [] and len(meanings) > 15
