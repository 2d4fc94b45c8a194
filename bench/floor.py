"""The floor: the least a signed messaging webhook can do, served beside Faro by bench/webhooks.py.

It checks Twilio's signature, inserts the message with a unique MessageSid (a repeat is
refused by the key and ignored), commits, and answers TwiML: the price of "the text is
durable before we answer", with the same engine settings, gunicorn and load generator as Faro:
`gunicorn 'bench.floor:create_app()'` with DATABASE_URL, TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL
set, as for Faro.
"""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from escalation.base.db import make_engine

FIELDS = {"message_sid": "MessageSid", "from_address": "From", "body": "Body"}
metadata = MetaData()
floor_message = Table(
    "floor_message",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_sid", String(64), nullable=False, unique=True),
    Column("from_address", String(64), nullable=False),
    Column("body", Text, nullable=False),
)


def create_app() -> Flask:
    engine = make_engine(os.environ["DATABASE_URL"])
    try:
        metadata.create_all(engine)
    except DBAPIError:  # another worker created it at the same moment (PostgreSQL's catalog)
        metadata.create_all(engine)  # finds it there
    store = insert(floor_message)  # built once: its compiled form is cached
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    base = os.environ["PUBLIC_BASE_URL"]
    app = Flask(__name__)

    @app.post("/twilio/sms")
    def sms():
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(base + request.path, request.form, signature):
            abort(403)
        row = {k: request.form.get(f, "") for k, f in FIELDS.items()}
        try:
            with engine.begin() as connection:
                connection.execute(store, row)
        except IntegrityError:  # a repeated MessageSid: stored already
            pass
        response = MessagingResponse()
        response.message("Gracias, anotamos que estas bien.")
        return Response(str(response), mimetype="text/xml")

    return app
