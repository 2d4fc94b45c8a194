"""The phone simulator in a real headless Chromium: Ana types ok, then sos, and sees it all,
read like a phone: oldest first, Faro's direct replies and later texts told apart, a call
shown as a call, and every time on the person's clock (never the browser's). She calls
Faro's number too: a missed call in her window, a call with 9, a silent call.

With FARO_ARTEFACTS set to a directory (CI sets it), the phone-sized and desktop views and the
calls are saved there."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from escalation.base.db import transaction, utcnow
from escalation.base.models import (
    SILENT_CALL,
    SMS,
    VOICE,
    CheckIn,
    InboundMessage,
    Incident,
    OutboundMessage,
    Person,
)
from escalation.base.schedule import local_date
from tests.browser import chromium
from tests.browser import served as serve
from tests.conftest import at

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def served(app, people):
    with serve(app) as url:
        yield url


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_page(browser, served):
    """A simulator page in its own browser context: open_page(viewport=…, timezone_id=…)."""

    def open_(**context):
        page = browser.new_context(**context).new_page()
        page.goto(f"{served}/simulator/")
        return page

    return open_


@pytest.fixture
def page(open_page):
    return open_page(viewport=DESKTOP)


def send(page, phone: str, text: str) -> None:
    page.select_option("#phone", phone)
    page.fill("#body", text)
    page.click("button[type=submit]")


def bubbles(page) -> list[str]:
    return page.locator("#conversation li .body").all_inner_texts()


def screenshot(page, name: str) -> None:
    folder = os.environ.get("FARO_ARTEFACTS")  # CI keeps them (.ci/artefacts)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"simulator-{name}.png"))
        page.screenshot(path=str(Path(folder) / f"simulator-{name}-full.png"), full_page=True)


def test_ana_types_ok_and_sees_the_thank_you(page, people):
    send(page, people["ana"], "ok")
    page.locator("#conversation li.faro", has_text="Gracias Ana").wait_for()
    assert page.locator("#conversation li.me .body").first.inner_text() == "ok"


def test_ana_types_sos_and_sees_the_alerts_to_her_team(page, people):
    send(page, people["ana"], "sos")
    page.locator("#conversation li.faro", has_text="Estamos avisando").wait_for()
    outbox = page.locator("#outbox tr")
    outbox.filter(has_text="Luis Herrera").first.wait_for()  # a text and a call
    rows = outbox.all_inner_texts()
    for name in ("Beto Garza", "Rosa Martinez", "Luis Herrera"):
        assert any(name in row and "FARO EMERGENCIA" in row for row in rows), rows


def test_the_conversation_reads_oldest_first_like_a_phone(page, people):
    send(page, people["ana"], "ok")
    page.locator("#conversation li.faro", has_text="Gracias Ana").wait_for()
    send(page, people["ana"], "sos")
    page.locator("#conversation li.faro", has_text="Estamos avisando").wait_for()
    texts = bubbles(page)
    order = [
        next(i for i, text in enumerate(texts) if wanted(text))
        for wanted in (
            lambda text: text == "ok",
            lambda text: "Gracias Ana" in text,
            lambda text: text == "sos",
            lambda text: "Estamos avisando" in text,
        )
    ]
    assert order == sorted(order), texts
    assert "Estamos avisando" in texts[-1], texts  # the newest at the bottom


def test_the_newest_text_is_scrolled_into_view(page, faro, people):
    talk(faro, people["ana"], 30)
    page.locator("#conversation li.me", has_text="mensaje 29").wait_for()
    conversation = page.locator("#conversation")
    assert conversation.evaluate("ol => ol.scrollHeight > ol.clientHeight")  # it does scroll
    assert conversation.evaluate("ol => ol.scrollHeight - ol.scrollTop - ol.clientHeight < 2")
    newest = page.locator("#conversation li").last
    assert "respuesta 29" in newest.inner_text()
    box, screen = newest.bounding_box(), conversation.bounding_box()
    assert screen["y"] <= box["y"] and box["y"] + box["height"] <= screen["y"] + screen["height"]


def test_a_direct_reply_is_marked_as_a_reply_and_a_later_text_as_sent_later(page, faro, people):
    send(page, people["ana"], "ok")
    reply = page.locator("#conversation li.faro.direct", has_text="Gracias Ana")
    reply.wait_for()
    assert "reply" in reply.locator(".meta").inner_text()
    later(faro, people["ana"], "Ana, ¿llegaste bien a Monterrey?", kind="trip_ask")
    notice = page.locator("#conversation li.faro.later", has_text="llegaste bien")
    notice.wait_for()
    assert "sent later · trip ask" in notice.locator(".meta").inner_text()
    assert page.locator("#conversation li.faro", has_text="Gracias Ana").count() == 1


def test_everything_faro_sent_lists_its_direct_replies_once_and_marked(page, people):
    """The issue's complaint: the list called "everything Faro sent" left out what Faro
    answered; now it holds each direct reply, once, marked as one."""
    send(page, people["ana"], "ok")
    page.locator("#conversation li.faro.direct", has_text="Gracias Ana").wait_for()
    rows = page.locator("#outbox tr.direct", has_text="Gracias Ana")
    rows.first.wait_for()
    assert rows.count() == 1
    assert page.locator("#outbox tr", has_text="Gracias Ana").count() == 1
    assert "direct reply" in rows.inner_text() and "Ana Lopez" in rows.inner_text()


def test_a_call_is_shown_as_a_call_not_a_text(page, faro, people):
    send(page, people["ana"], "sos")
    page.locator("#conversation li.faro", has_text="Estamos avisando").wait_for()
    page.select_option("#phone", people["luis"])
    call = page.locator("#conversation li.faro.call")
    call.first.wait_for()
    with faro.sessions() as session:
        script = session.scalar(
            select(OutboundMessage.body).where(
                OutboundMessage.to_phone == people["luis"], OutboundMessage.channel == VOICE
            )
        )
    assert call.first.locator(".call-title").inner_text() == "☎ Call from Faro"
    assert call.first.locator(".body").inner_text() == script
    assert "call · alert" in call.first.locator(".meta").inner_text()
    text = page.locator("#conversation li.faro:not(.call)", has_text="FARO EMERGENCIA")
    assert text.count() >= 1 and "sent later · alert" in text.first.inner_text()
    assert "☎ Call: " + script in page.locator("#outbox tr.call").first.inner_text()


def test_every_time_is_on_the_persons_clock_not_the_browsers(open_page, faro, people):
    exchange(faro, people["ana"], at("2026-12-01T21:49:00Z"), "ok", "Gracias Ana")
    later(faro, people["ana"], "Ana, ¿llegaste bien?", when=at("2026-12-01T22:05:00Z"))
    page = open_page(viewport=DESKTOP, timezone_id="Asia/Tokyo")  # a browser far away
    page.locator("#conversation li.me", has_text="ok").wait_for()
    metas = page.locator("#conversation li .meta").all_inner_texts()
    assert [meta[:11] for meta in metas] == ["01/12 15:49", "01/12 15:49", "01/12 16:05"]
    assert "America/Monterrey" in page.locator("#clock").inner_text()
    when = page.locator("#outbox td.when").all_inner_texts()
    assert when == ["01/12 16:05", "01/12 15:49"]  # newest first, on Ana's clock too

    with transaction(faro.sessions) as session:
        session.scalar(
            select(Person).where(Person.phone == people["ana"])
        ).timezone = "America/Tijuana"
    page.reload()
    page.locator("#conversation li.me .meta", has_text="01/12 13:49").wait_for()
    assert "America/Tijuana" in page.locator("#clock").inner_text()
    assert page.locator("#outbox td.when").all_inner_texts() == ["01/12 14:05", "01/12 13:49"]


def test_an_unknown_phone_is_on_monterrey_time(faro, people, client):
    stranger = "+525550000000"
    exchange(faro, stranger, at("2026-12-01T21:49:00Z"), "hola", "No te conozco")
    data = client.get("/simulator/messages", query_string={"phone": stranger}).get_json()
    assert data["zone"] == "America/Monterrey"
    assert [item["time"] for item in data["conversation"]] == ["01/12 15:49"] * 2
    assert [item["from"] for item in data["conversation"]] == ["me", "faro"]
    assert data["conversation"][1]["direct"] is True


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_page_fits_a_phone_and_a_desktop(open_page, faro, people, size):
    talk(faro, people["ana"], 12)
    exchange(
        faro, people["ana"], at("2026-12-01T21:49:00Z"), "sos", "Estamos avisando a tu equipo."
    )
    later(faro, people["luis"], "FARO EMERGENCIA: Ana Lopez pidio ayuda.", kind="alert")
    later(
        faro, people["luis"], "Faro. Ana Lopez pidio ayuda. Marque 1.", kind="alert", channel=VOICE
    )
    page = open_page(viewport=PHONE if size == "phone" else DESKTOP)
    page.locator("#conversation li.me", has_text="mensaje 11").wait_for()
    width = PHONE["width"] if size == "phone" else DESKTOP["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("#body").is_visible() and page.locator("#phone").is_visible()
    screenshot(page, f"{size}-ana")
    page.select_option("#phone", people["luis"])
    page.locator("#conversation li.call").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"{size}-luis-call")


def test_a_missed_call_in_her_window_is_her_checkin(page, faro, people):
    pinged_now(faro, people["ana"])
    page.select_option("#phone", people["ana"])
    page.click("#missed-call")
    page.locator("#call-result", has_text="rejected the call").wait_for()
    page.locator("#conversation li.me", has_text="Missed call").wait_for()
    thanks = page.locator("#conversation li.faro.later", has_text="Recibimos tu llamada, Ana")
    thanks.wait_for()  # the thank-you, by text
    screenshot(page, "missed-call")
    with faro.sessions() as session:
        assert session.scalar(select(CheckIn.answered_at)) is not None


def test_a_call_with_9_is_an_emergency_and_faro_says_so_on_the_call(page, people):
    page.select_option("#phone", people["ana"])
    page.fill("#keys", "9")
    page.click("#call")
    page.locator("#call-result", has_text="Estamos avisando a tu equipo").wait_for()
    assert "oprime 9" in page.locator("#call-result").inner_text()  # the menu came first
    page.locator("#conversation li.me", has_text="Pressed 9").wait_for()
    said = page.locator("#conversation li.faro.direct.call", has_text="Estamos avisando")
    said.wait_for()
    assert said.locator(".call-title").inner_text() == "☎ Faro said on the call"
    page.locator("#outbox tr", has_text="Luis Herrera").first.wait_for()
    screenshot(page, "call-9")


def test_a_silent_call_asks_her_team_to_check_on_her(page, faro, people):
    page.select_option("#phone", people["ana"])
    page.click("#call")  # no keys: she stays on the line in silence
    page.locator("#call-result", has_text="No recibimos tu respuesta").wait_for()
    assert "(no key pressed)" in page.locator("#call-result").inner_text()
    page.locator("#outbox tr", has_text="Rosa Martinez").first.wait_for()
    screenshot(page, "silent-call")
    with faro.sessions() as session:
        assert session.scalar(select(Incident.kind)) == SILENT_CALL


# --- seeding what Faro said, at known instants ---------------------------------------------


def pinged_now(faro, phone: str) -> None:
    """Her ping of today left a minute ago and waits for her answer: her check-in window."""
    now = utcnow()
    with transaction(faro.sessions) as session:
        intern = session.scalar(select(Person).where(Person.phone == phone))
        session.add(
            CheckIn(
                intern_id=intern.id,
                local_date=local_date(intern, now),
                due_at=now - timedelta(minutes=1),
                sent_at=now - timedelta(minutes=1),
                deadline_at=now + timedelta(hours=2),
                escalate_at=now + timedelta(hours=2),
            )
        )


_sids = iter(range(10**6))


def exchange(faro, phone: str, when, text: str, reply: str | None) -> None:
    """A text from `phone` at `when`, answered directly with `reply`."""
    with transaction(faro.sessions) as session:
        person = session.scalar(select(Person).where(Person.phone == phone))
        session.add(
            InboundMessage(
                message_sid=f"SIMSEED{next(_sids)}",
                from_address=phone,
                phone=phone,
                body=text,
                person_id=person.id if person else None,
                received_at=when,
                processed_at=when,
                reply=reply,
            )
        )


def later(faro, phone: str, body: str, *, kind="notice", channel=SMS, when=None) -> None:
    """A message Faro sent `phone` on its own (sent already: the dispatcher leaves it alone)."""
    when = when or at("2026-12-01T22:05:00Z")
    with transaction(faro.sessions) as session:
        session.add(
            OutboundMessage(
                to_phone=phone,
                channel=channel,
                kind=kind,
                body=body,
                created_at=when,
                next_attempt_at=None,
                sent_at=when,
            )
        )


def talk(faro, phone: str, count: int) -> None:
    start = at("2026-11-30T14:00:00Z")
    for n in range(count):
        exchange(faro, phone, start + timedelta(minutes=n), f"mensaje {n}", f"respuesta {n}")
