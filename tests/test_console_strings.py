"""The console's words: the Spanish and English catalogs have the same keys, and every key the
templates use exists in both, the literal ones and those built with `~` (a prefix and a value
the code can give)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.console.i18n import CATALOG, LANGUAGES, strings
from escalation.base.channels import CHANNELS
from escalation.base.kinds import KINDS
from escalation.base.models import ACCOUNT_ROLES, ROLES

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "console"
STATUSES = ("open", "acknowledged", "resolved")  # escalation.base.models.incident_status

# `t("key")` or `t('key', …)`; `t("prefix." ~ value)`.
LITERAL = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*[,)]""")
BUILT = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*~""")


def roster_filters() -> tuple[str, ...]:
    from bot.console.views import ROSTER_FILTERS

    return ROSTER_FILTERS


# Every prefix a template builds a key from, and every value the code can give it.
VALUES = {
    "kind.": lambda: tuple(KINDS),
    "role.": lambda: ROLES,
    "accounts.role.": lambda: ACCOUNT_ROLES,
    "incident.status.": lambda: STATUSES,
    "roster.show.": roster_filters,
    "channel.": lambda: tuple(CHANNELS),
    # Our own outbox states (escalation.base.models.outbound_status); Twilio's delivery and
    # call states read as themselves where a catalog has no label.
    "status.": lambda: ("queued", "sent", "failed", "delivered", "undelivered"),
    "history.day.": lambda: __import__("escalation.history", fromlist=["LABELLED"]).LABELLED,
}
# Timeline events read as their kind when a catalog has no label (bot.console.i18n.t); the ones
# the console itself writes must have one.
LABELLED_EVENTS = ("incident_opened", "alerted", "acknowledged", "note_added", "resolved")


def templates() -> list[Path]:
    found = sorted(TEMPLATES.glob("*.html"))
    assert found, TEMPLATES
    return found


def used(pattern: re.Pattern) -> dict[str, list[str]]:
    """Each key (or prefix) the templates use, with the templates that use it."""
    keys: dict[str, list[str]] = {}
    for path in templates():
        for match in pattern.finditer(path.read_text("utf-8")):
            keys.setdefault(match.group(2), []).append(path.name)
    return keys


def test_there_is_a_catalog_for_every_language():
    assert {p.stem for p in CATALOG.glob("*.json")} == set(LANGUAGES) == {"es", "en"}


def test_the_spanish_and_english_catalogs_have_the_same_keys():
    es, en = set(strings("es")), set(strings("en"))
    assert sorted(es - en) == [], "in es.json only"
    assert sorted(en - es) == [], "in en.json only"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_string_is_empty_and_every_placeholder_is_in_both_languages(language):
    other = "en" if language == "es" else "es"
    fields = re.compile(r"\{(\w+)\}")
    for key, text in strings(language).items():
        assert text.strip(), f"{language}.json: {key} is empty"
        assert set(fields.findall(text)) == set(fields.findall(strings(other).get(key, ""))), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_literal_key_in_the_templates_is_in_the_catalog(language):
    keys = used(LITERAL)
    assert len(keys) > 50  # the pattern still finds the templates' keys
    missing = {key: where for key, where in keys.items() if key not in strings(language)}
    assert missing == {}, f"missing from {language}.json"


def test_every_built_key_has_a_known_prefix():
    unknown = {p: where for p, where in used(BUILT).items() if p not in VALUES and p != "event."}
    assert unknown == {}, "add the values each prefix can take to VALUES in this test"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("prefix", sorted(VALUES))
def test_every_value_of_a_built_key_is_in_the_catalog(language, prefix):
    values = VALUES[prefix]()
    assert values
    missing = [
        f"{prefix}{value}" for value in values if f"{prefix}{value}" not in strings(language)
    ]
    assert missing == [], f"missing from {language}.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_events_the_console_writes_have_labels(language):
    missing = [kind for kind in LABELLED_EVENTS if f"event.{kind}" not in strings(language)]
    assert missing == []


def test_the_prefixes_the_templates_build_are_all_checked():
    """If a template stopped building keys from a prefix, VALUES should lose it too."""
    assert set(used(BUILT)) - {"event."} == set(VALUES)
