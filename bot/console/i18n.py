"""The console's words, in Spanish (default) and English: one JSON catalog per language
(templates/console/strings/<lang>.json), plus one per page set that has its own
(templates/console/strings/<set>/<lang>.json, e.g. reports/). Templates call `t("key")`; each
user picks her language (her account's, or `?lang=` for this session). A key missing from a
catalog fails the catalog test, never a page; a key in two files fails at the first page."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, request, session
from flask_login import current_user

CATALOG = Path(__file__).resolve().parents[2] / "templates" / "console" / "strings"
LANGUAGES = ("es", "en")


@cache
def strings(language: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in [CATALOG / f"{language}.json", *sorted(CATALOG.glob(f"*/{language}.json"))]:
        catalog = json.loads(path.read_text(encoding="utf-8"))
        twice = sorted(merged.keys() & catalog.keys())
        if twice:
            raise ValueError(f"{path}: keys already in another catalog: {', '.join(twice)}")
        merged.update(catalog)
    return merged


def language() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    if current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return "es"


def t(key: str, **values: object) -> str:
    text = strings(language()).get(key) or strings("es").get(key)
    if text is None:  # an event or a provider's status without a label reads as itself
        open_ended = key.startswith(("event.", "status."))
        text = key.split(".", 1)[-1].replace("_", " ") if open_ended else key
    return text.format(**values) if values else text


def local(instant: datetime | None, zone: str) -> str:
    """`01/12 03:12` in the person's zone: one clock on every page."""
    return instant.astimezone(ZoneInfo(zone)).strftime("%d/%m %H:%M") if instant else "—"


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(t=t, current_language=language)
    app.jinja_env.filters["local"] = local
