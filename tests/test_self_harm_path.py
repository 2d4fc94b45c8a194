"""Words of self-harm at any time: the crisis line at once, and a human from mental health."""

from __future__ import annotations

from sqlalchemy import select

from escalation.base.models import SELF_HARM, Incident


def test_ana_writes_that_she_does_not_want_to_live(text_faro, faro, people, transport):
    reply = text_faro(people["ana"], "ya no kiero vivir").get_data(as_text=True)
    assert "800 911 2000" in reply
    faro.dispatcher.wait_idle()
    with faro.sessions() as session:
        incident = session.scalar(select(Incident))
    assert (incident.kind, incident.status) == (SELF_HARM, "open")
    [alert] = transport.to(people["sofia"])  # the university's mental-health contact
    assert "Ana Lopez" in alert and incident.code in alert
    assert "vivir" not in alert  # what she wrote never leaves the mental-health path
    assert transport.to(people["rosa"]) == []


def test_figures_of_speech_do_not_alarm_anyone(text_faro, faro, people, transport):
    reply = text_faro(people["ana"], "me muero de hambre jaja").get_data(as_text=True)
    assert "800 911 2000" not in reply
    faro.dispatcher.wait_idle()
    with faro.sessions() as session:
        assert session.scalar(select(Incident)) is None
