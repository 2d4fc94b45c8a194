"""Twilio's webhooks against any request: signed, whatever the form, query or headers, they
answer TwiML, an empty 200 or a clear 4xx, never a 5xx, and leave no text unprocessed or
spooled; unsigned or wrongly signed, they refuse it (403) and the database is exactly as before.

Each example starts from the same database: intern Ana, her buddy Beto, nurse Rosa … (the
`people` fixture) and one emergency of Ana's whose alerts (texts and calls) have left, so that
status callbacks and call webhooks can name real rows. The rows of every table are kept once
and put back before each example (`Rows`), which is what lets hypothesis run many examples on
one app. README "How it works" and bot/webhook.py, bot/voice.py say what each route does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import inspect, select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from bot.conversation.inbound import receive
from escalation.base.db import Base
from escalation.base.models import VOICE, InboundMessage, Incident, OutboundMessage
from tests.conftest import ANA, AUTH_TOKEN, BETO, LUIS, MARTA, PUBLIC_URL, ROSA, SOFIA
from tests.hostile import Rows, any_text, examples, mostly


@pytest.fixture
def extra_settings() -> dict[str, str]:
    return {"TWILIO_MPS": "1000"}  # the alerts of each example leave at once


class World:
    """The seeded state every example starts from, and the names in it."""

    def __init__(self, faro, client, transport) -> None:
        self.faro, self.client, self.transport = faro, client, transport
        self.rows = Rows(faro.engine)
        self.seeded = self.rows.read()
        with faro.sessions() as session:
            self.code = session.scalar(select(Incident.code))  # Ana's open emergency
            outbox = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
            self.outbox_ids = [m.id for m in outbox]
            self.voice_ids = [m.id for m in outbox if m.channel == VOICE]
            self.provider_sids = [m.provider_sid for m in outbox if m.provider_sid]
        assert self.code and self.provider_sids, "the seeded emergency alerted nobody"
        assert (self.outbox_ids, self.voice_ids) == (OUTBOX_IDS, CALL_IDS), "update OUTBOX_IDS"

    def fresh(self) -> None:
        """Back to the seeded state: no message in flight, the same rows, nothing sent."""
        self.faro.dispatcher.wait_idle()
        self.rows.restore(self.seeded)
        self.transport.sent.clear()

    def settle(self) -> None:
        self.faro.dispatcher.wait_idle()

    def __repr__(self) -> str:
        return f"World(code={self.code!r}, outbox={self.outbox_ids}, calls={self.voice_ids})"


SEED_SID = "SM" + "0" * 32


@pytest.fixture
def world(app, faro, client, transport, people) -> World:
    arrived = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    receive(faro.sessions, arrived, sid=SEED_SID, from_address=ANA, body="sos")
    faro.dispatch(arrived)
    return World(faro, client, transport)


def test_the_rows_put_back_cover_every_table_of_the_migrated_database(world):
    tables = set(inspect(world.faro.engine).get_table_names()) - {"alembic_version"}
    assert tables == {table.name for table in Base.metadata.sorted_tables}


# --- Requests --------------------------------------------------------------------------------

CODE = "{code}"  # in a body or query: the seeded emergency's code, filled in by Call.bind


@dataclass(frozen=True)
class Call:
    """One POST as it goes on the wire: path, query, raw body, content type, headers; `raw_query`
    (bytes, maybe not UTF-8, which Twilio never sends) replaces the query as it is."""

    path: str
    query: str = ""
    body: bytes = b""
    content_type: str | None = "application/x-www-form-urlencoded"  # FORM
    headers: tuple[tuple[str, str], ...] = ()
    raw_query: bytes | None = None

    def bind(self, code: str) -> Call:
        quoted = quote(CODE, safe="")
        return Call(self.path, self.query.replace(quoted, code),
                    self.body.replace(quoted.encode(), code.encode()), self.content_type,
                    self.headers, self.raw_query)  # fmt: skip

    @property
    def url(self) -> str:
        """What Twilio signs: the URL it requested, query included."""
        query = self.query if self.raw_query is None else self.raw_query.decode("utf-8", "replace")
        return f"{PUBLIC_URL}{self.path}" + (f"?{query}" if query else "")

    def form(self) -> MultiDict:
        """The form as our server reads it: what Twilio signed, had it sent this request."""
        return Request(self._environ(list(self.headers))).form

    def signed(self, token: str = AUTH_TOKEN, *, url: str | None = None, form=None) -> str:
        params = self.form() if form is None else form
        return RequestValidator(token).compute_signature(url or self.url, params)

    def send(self, client, signature: str | None):
        headers = list(self.headers)
        if signature is not None:
            headers.append(("X-Twilio-Signature", signature))
        return client.open(Request(self._environ(headers)))

    def _environ(self, headers: list[tuple[str, str]]) -> dict:
        environ = EnvironBuilder(
            path=self.path,
            method="POST",
            query_string=self.query or None,
            data=self.body,
            content_type=self.content_type,
            headers=headers,
            base_url=PUBLIC_URL,
        ).get_environ()
        if self.raw_query is not None:
            environ["QUERY_STRING"] = self.raw_query.decode("latin-1")  # as WSGI carries it
        return environ


TWILIO_FIELDS = [
    "MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "MessagingServiceSid", "From", "To",
    "Body", "NumMedia", "NumSegments", "MediaUrl0", "MediaContentType0", "WaId", "ProfileName",
    "ButtonText", "FromCity", "FromCountry", "ApiVersion", "SmsStatus", "MessageStatus",
    "ErrorCode", "ErrorMessage", "CallSid", "CallStatus", "CallDuration", "Digits",
    "AnsweredBy", "Direction", "OptOutType",
]  # fmt: skip
STATUSES = ["accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed", "read"]
CALL_STATUSES = ["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer",
                 "canceled"]  # fmt: skip
# The seeded outbox: a text and a call to each of Beto, Rosa and Luis (World checks it). Ids up
# to 9 name rows and no rows, and any number is tried too.
OUTBOX_IDS, CALL_IDS = [1, 2, 3, 4, 5, 6], [2, 4, 6]
ROW_IDS = mostly(
    st.sampled_from(CALL_IDS), st.one_of(st.integers(0, 9), st.integers(0, 1 << 70)), 5
)

huge = st.builds(lambda piece, n: piece * n, st.sampled_from(["a", "é", "\x00", "sos ", "9"]),
                 st.integers(1, 1 << 15))  # fmt: skip
odd_numbers = st.sampled_from(["0", "1", "-1", "1e3", "１２", "99999999999999999999", " 3 ", "nan"])
values = st.one_of(any_text, odd_numbers, huge, st.just(""))
PHONES = [ANA, BETO, ROSA, LUIS, MARTA, SOFIA]

phones = mostly(st.sampled_from(PHONES), st.one_of(
    st.sampled_from(PHONES).map(lambda phone: "whatsapp:" + phone.replace("+52", "+521")),
    st.sampled_from(["+15005550006", "+5215555555555", "whatsapp:", "client:anon", "+", " "]),
    st.sampled_from(PHONES).map(lambda phone: phone + "\x00"),
    any_text,
))  # fmt: skip
sids = mostly(st.integers(0, 10**32 - 1).map(lambda n: f"SM{n:032d}"), st.one_of(
    st.integers(0, 10**40).map(lambda n: f"SM{n:032d}"),
    st.sampled_from(["SM" + "0" * 32, "SM" + "a" * 62, "SM" + "a" * 63, " ", "SM\x00x"]),
    any_text,
))  # fmt: skip
said = st.sampled_from(
    ["ok", "sos", "9", "1", "2", "3", "mal", "STOP", "START", "MENU", "ESTADO", "LLEGUE",
     "VIAJE 3h Linares", "PAUSA 5d", "REGRESO", "HORA 25:99", "HORA 07:45", "CLAVE girasol",
     f"ATIENDO {CODE}", f"OK {CODE}", f"LISTO {CODE}", f"ESTADO {CODE}", "ATIENDO 99999999",
     "me quiero morir", "me vienen siguiendo", "no necesito ayuda"]
)  # fmt: skip
# Per route, the fields it reads, with the values that lead somewhere.
READ = {
    "sms": {"MessageSid": sids, "From": phones, "Body": mostly(said, values, 6), "To": phones,
            "NumMedia": odd_numbers},
    "status": {
        "MessageSid": mostly(st.integers(0, 9).map(lambda n: f"SM{n:032d}"), sids, 5),
        "MessageStatus": mostly(st.sampled_from(STATUSES), any_text),
        "ErrorCode": st.one_of(st.sampled_from(["30003", "21211", "63016"]), values),
    },
    "voice": {
        "CallSid": sids,
        "CallStatus": mostly(st.sampled_from(CALL_STATUSES), any_text),
        "Digits": mostly(st.sampled_from(["1", "2", "9", "11", "#", "*1"]), values),
        "CallDuration": st.one_of(odd_numbers, values),
        "AnsweredBy": st.one_of(st.sampled_from(["human", "machine_start"]), values),
    },
    "call": {  # a call to Faro's own number (bot/calls.py)
        "CallSid": sids,
        "From": mostly(phones, st.sampled_from(["anonymous", "+266696687", ""]), 6),
        "To": phones,
        "CallStatus": mostly(st.just("ringing"), st.sampled_from(CALL_STATUSES)),
        "Digits": mostly(st.sampled_from(["1", "2", "9", "5", "#", "*1", "19"]), values),
    },
}  # fmt: skip


def route(path: str) -> str:
    if path.startswith("/twilio/call"):
        return "call"
    return "voice" if path.startswith("/twilio/voice/") else path.rsplit("/", 1)[1]


def encoded(pairs: list[tuple[str | bytes, str | bytes]]) -> bytes:
    """A url-encoded form with the pairs in order (repeated keys kept): bytes are sent as
    they are (maybe not UTF-8), text as UTF-8."""

    def one(part: str | bytes) -> str:
        return quote_from_bytes(part) if isinstance(part, bytes) else quote(part, safe="")

    return "&".join(f"{one(key)}={one(value)}" for key, value in pairs).encode()


FORM = "application/x-www-form-urlencoded"
# Twilio's form most of the time; then what else a client may claim to send.
content_types = mostly(st.just(FORM), st.sampled_from(
    [f"{FORM}; charset=UTF-8", f"{FORM}; charset=latin-1", "text/plain", "application/json",
     "multipart/form-data; boundary=Xy", "multipart/form-data", None, ""]
), 8)  # fmt: skip
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)
headers = st.lists(
    st.tuples(
        st.one_of(
            st.sampled_from(["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Host",
                             "User-Agent", "I-Twilio-Idempotency-Token", "Cookie", "Accept",
                             "Authorization", "X-Home-Region", "Accept-Charset"]),
            st.from_regex(r"\A[A-Za-z][A-Za-z0-9\-]{0,20}\Z"),
        ),
        header_text,
    ),
    max_size=4,
).map(tuple)  # fmt: skip
queries = st.one_of(
    st.just(""),
    st.lists(st.tuples(any_text, any_text), max_size=3).map(
        lambda pairs: "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    ),
    st.text(st.sampled_from("abz09=&?%+;/:@!$'()*,.~-_"), max_size=20),
)
# `?id=` as Faro writes it on every message it sends, a real row's or any other.
status_queries = st.one_of(
    mostly(
        st.sampled_from(OUTBOX_IDS).map(str), st.one_of(ROW_IDS.map(str), odd_numbers, any_text)
    ).map(lambda v: "id=" + quote(v, safe="")),
    queries,
)
voice_paths = st.tuples(ROW_IDS, st.sampled_from(["", "/gather", "/status"])).map(
    lambda pair: f"/twilio/voice/{pair[0]}{pair[1]}"
)
call_paths = st.sampled_from(["/twilio/call", "/twilio/call/gather", "/twilio/call/menu"])
# The menu's own query (`attempt=n`, part of the URL Twilio signs), or any other.
call_queries = mostly(
    st.one_of(st.integers(0, 4).map(str), odd_numbers).map(lambda v: "attempt=" + quote(v)),
    queries,
)
every_path = st.sampled_from(["sms", "status", "voice", "call"]).flatmap(
    lambda name: {"voice": voice_paths, "call": call_paths}.get(name, st.just(f"/twilio/{name}"))
)


@st.composite
def calls(draw, paths) -> Call:
    """A POST to one of `paths`: mostly a form shaped like Twilio's (the fields the route
    reads, each usually there, then any others, repeated keys too), sometimes any bytes."""
    path = draw(paths)
    if draw(st.integers(0, 9)) == 0:
        body = draw(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
    else:
        pairs = [
            (name, draw(strategy, label=name))
            for name, strategy in READ[route(path)].items()
            if draw(st.integers(0, 9), label=f"{name}?")  # absent one time in ten
        ]
        names = st.one_of(st.sampled_from(TWILIO_FIELDS), any_text)
        pairs += draw(st.lists(st.tuples(names, values), max_size=6), label="more")
        if draw(st.booleans()):
            pairs = draw(st.permutations(pairs))
        if draw(st.integers(0, 9)) == 0:
            pairs.append((draw(any_text), draw(st.binary(max_size=8))))  # not UTF-8
        body = encoded(pairs)
    query = draw({"status": status_queries, "call": call_queries}.get(route(path), queries),
                 label="query")  # fmt: skip
    return Call(path, query, body, draw(content_types), draw(headers))


# --- Signed: an answer, never an error -------------------------------------------------------


def check_answer(call: Call, response) -> None:
    """TwiML, an empty 200, or a 4xx that says what was wrong with the request; never a 403
    (it was signed as Twilio signs) and never a 5xx."""
    status, body = response.status_code, response.get_data()
    event(f"{route(call.path)}: {status}")
    assert status < 500, (call, status)
    assert status != 403, ("refused a request signed as Twilio signs", call)
    if status == 200 and body:
        assert response.mimetype == "text/xml", (call, body[:200])
        assert ET.fromstring(body).tag == "Response", (call, body[:200])
    elif status != 200:
        assert status in (400, 413), (call, status, body[:200])


def check_nothing_left_behind(world: World) -> None:
    """Every text stored was acted on (acting on one that fails is answered 200 and left for
    the tick, so a failure would hide behind a good answer), and nothing went to the spool:
    the database was there all along."""
    world.settle()
    with world.faro.sessions() as session:
        pending = session.scalars(
            select(InboundMessage).where(InboundMessage.processed_at.is_(None))
        ).all()
    assert not pending, [(m.message_sid, m.body) for m in pending]
    with world.faro.sessions() as session:
        stored = select(InboundMessage.intent).where(InboundMessage.message_sid != SEED_SID)
        for intent in session.scalars(stored):
            event(f"stored: {intent}")
    assert world.faro.spool.pending() == []


def send_signed(world: World, calls: list[Call]) -> None:
    world.fresh()
    for call in calls:
        call = call.bind(world.code)
        check_answer(call, call.send(world.client, call.signed()))
    check_nothing_left_behind(world)


def text(*pairs: tuple[str, str], query: str = "") -> Call:
    return Call("/twilio/sms", query, encoded(list(pairs)))


@examples(60, resets_state=True)
@given(calls=st.lists(calls(st.just("/twilio/sms")), min_size=1, max_size=3))
@example(calls=[text(("MessageSid", "SM\x001"), ("From", ANA), ("Body", "ok"))])
@example(calls=[text(("MessageSid", "SM2"), ("From", ANA + "\x00"), ("Body", "sos"))])
@example(
    calls=[
        text(("MessageSid", "SM3"), ("From", ANA), ("Body", "ok"), ("Body", "sos")),
        text(("MessageSid", "SM4"), ("From", ROSA), ("Body", f"ATIENDO {CODE}")),
    ]
)
@example(calls=[text(("MessageSid", "SM5"), ("From", ANA), ("Body", "ok"), query="?")])
@example(calls=[text(("MessageSid", "SM6"), ("From", ANA), ("Body", "sos " * (1 << 18)))])
def test_a_signed_text_of_any_shape_gets_twiml_or_a_clear_4xx(world, calls):
    send_signed(world, calls)


def status(*pairs: tuple[str, str], query: str = "") -> Call:
    return Call("/twilio/status", query, encoded(list(pairs)))


@examples(50, resets_state=True)
@given(calls=st.lists(calls(st.just("/twilio/status")), min_size=1, max_size=3))
@example(calls=[status(("MessageSid", "SM\x00"), ("MessageStatus", "failed"))])
@example(calls=[status(("MessageStatus", "failed"), ("ErrorCode", "3\x00"), query="id=1")])
@example(calls=[status(("MessageStatus", "delivered"), query=f"id={1 << 64}")])
def test_a_signed_status_callback_of_any_shape_gets_an_empty_200_or_a_clear_4xx(world, calls):
    send_signed(world, calls)


@examples(50, resets_state=True)
@given(calls=st.lists(calls(voice_paths), min_size=1, max_size=3))
@example(calls=[Call(f"/twilio/voice/{1 << 71}")])
@example(calls=[Call("/twilio/voice/2", "?", b"=")])
@example(calls=[Call("/twilio/voice/2/status", body=encoded([("CallStatus", "x\x00y")]))])
@example(calls=[Call("/twilio/voice/2/gather", body=encoded([("Digits", "1\x00")]))])
def test_a_signed_call_webhook_of_any_shape_gets_twiml_or_a_clear_4xx(world, calls):
    send_signed(world, calls)


def dial(path: str, *pairs: tuple[str, str], query: str = "") -> Call:
    return Call(path, query, encoded(list(pairs)))


@examples(50, resets_state=True)
@given(calls=st.lists(calls(call_paths), min_size=1, max_size=3))
@example(calls=[dial("/twilio/call", ("CallSid", "CA\x001"), ("From", ANA))])
@example(calls=[dial("/twilio/call/gather", ("CallSid", "CA2"), ("From", ANA), ("Digits", "9"),
                     query=f"attempt={1 << 70}")])  # fmt: skip
@example(calls=[dial("/twilio/call/menu", ("CallSid", "CA3"), ("From", "anonymous"),
                     query="attempt=x")])  # fmt: skip
@example(calls=[dial("/twilio/call/gather", ("CallSid", "CA4"), ("From", ANA), ("Digits", "9"),
                     ("Digits", "1"))])  # fmt: skip
def test_a_signed_call_to_faros_number_of_any_shape_gets_twiml_or_a_clear_4xx(world, calls):
    send_signed(world, calls)


# --- Unsigned or wrongly signed: refused, nothing changed -------------------------------------

WRONG_TOKEN = AUTH_TOKEN[:-1] + "0"
FORGERIES = ["none", "empty", "garbage", "token", "http", "host", "path", "query", "form",
             "value", "dropped", "body"]  # fmt: skip


def forge(call: Call, form: MultiDict, kind: str, garbage: str) -> str | None:
    """A signature Twilio would not have sent with this request (whose form is `form`): none,
    nonsense, another token's, another URL's (scheme, host, route, query), another form's (a
    field added, a value changed, a field dropped, the body replaced by "ok")."""
    form = MultiDict(form)
    if kind in ("none", "empty", "garbage"):
        return {"none": None, "empty": "", "garbage": garbage}[kind]
    if kind == "token":
        return call.signed(WRONG_TOKEN, form=form)
    if kind in ("http", "host", "path", "query"):
        other = "/twilio/status" if call.path == "/twilio/sms" else "/twilio/sms"
        url = {
            "http": call.url.replace("https://", "http://", 1),
            "host": call.url.replace("faro.example.org", "faro.example.org.evil.example", 1),
            "path": call.url.replace(call.path, other, 1),
            "query": PUBLIC_URL + call.path if "?" in call.url else call.url + "?id=1",
        }[kind]
        return call.signed(url=url, form=form)
    names = list(form)
    if kind == "value" and names:
        form.setlist(names[0], [form.getlist(names[0])[0] + "x", *form.getlist(names[0])[1:]])
    elif kind == "dropped" and names:
        form.poplist(names[0])
    elif kind == "body":
        form.setlist("Body", ["ok"])
    else:
        form.add("Forged", "1")
    return call.signed(form=form)


@examples(60, resets_state=True)
@given(call=calls(every_path), raw_query=st.one_of(st.none(), st.binary(max_size=12)),
       garbage=header_text)  # fmt: skip
@example(call=text(("MessageSid", "SM1"), ("From", ANA), ("Body", "ok")), raw_query=b"a=\xff",
         garbage="")  # fmt: skip
@example(call=Call(f"/twilio/voice/{1 << 71}/status"), raw_query=None, garbage="x")
def test_a_request_unsigned_or_wrongly_signed_is_refused_and_changes_nothing(
    world, call, raw_query, garbage
):
    """Each request is sent with every kind of wrong signature, then the database is compared
    with the one before, row by row."""
    world.fresh()
    call = Call(**{**vars(call.bind(world.code)), "raw_query": raw_query})
    form = call.form()
    right = call.signed(form=form)
    for kind in FORGERIES:
        signature = forge(call, form, kind, garbage)
        if signature == right:
            continue  # Twilio's own scheme can collide: "ab"+"c" signs as "a"+"bc"

        response = call.send(world.client, signature)

        assert response.status_code == 403, (call, kind, response.status_code)
    event(f"refused: {route(call.path)}")
    world.settle()
    assert world.rows.read() == world.seeded, "a refused request changed the database"
    assert world.transport.sent == [] and world.faro.spool.pending() == []
