"""Faro: daily safety check-ins by SMS/WhatsApp for interns on rural postings.

`create_app()` builds the web app (Twilio webhooks, health, phone simulator, console);
`python app.py` is the embedded default: migrations, demo roster, web and scheduler in one
process, SQLite and the console transport unless Twilio credentials are set.
"""

from __future__ import annotations

import atexit
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import logs
from bot.config import ConfigError, environment, load_settings
from bot.runtime import Faro

log = logging.getLogger("faro")
# The largest request body read: a roster upload (at most 5 MB, bot/console/upload.py) and its
# confirmation, URL-encoded, fit; a Twilio webhook is a few kilobytes. Anything larger is
# refused (413) before it is read, so a forged flood of form data cannot fill the memory.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def create_app(
    config: Mapping[str, str] | None = None,
    *,
    transport=None,
    start_scheduler: bool = True,
    instance_path: str | None = None,
) -> Flask:
    """The Flask app. `config` (a test's settings, as environment keys) replaces the environment;
    `instance_path` (absolute) replaces Flask's instance folder (`instance/`: the spool).

    With RUN_SCHEDULER=1 the in-process scheduler starts here, unless the caller starts it
    itself once the database is ready (`python app.py` migrates first)."""
    env = environment(config)
    try:
        settings = load_settings(env, run_scheduler_default=False)
    except ConfigError as exc:
        raise SystemExit(f"Faro cannot start: {exc}") from None
    logs.configure(settings)
    app = Flask(__name__, instance_path=instance_path)
    app.config.update(SECRET_KEY=settings.secret_key, FARO_SETTINGS=settings,
                      MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)  # fmt: skip
    if settings.public_base_url.startswith("https://"):
        # Behind exactly one TLS proxy: the client's address (sign-in limits, logs) and
        # scheme come from it. Signatures are checked against PUBLIC_BASE_URL regardless.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    app.extensions["faro"] = Faro(settings, transport, instance=Path(app.instance_path))

    from bot import calls, cli, console, health, metrics, simulator, voice, webhook

    app.register_blueprint(webhook.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(calls.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(simulator.bp)
    console.init_app(app)
    cli.init_app(app)
    if settings.run_scheduler and start_scheduler:
        from bot.scheduler import start_background

        start_background(app.extensions["faro"])
    return app


def main() -> None:
    """`python app.py`: migrate, seed the demo roster into an empty console database, serve."""
    os.environ.setdefault("RUN_SCHEDULER", "1")
    from bot.cli import prepare_database
    from bot.scheduler import start_background

    app = create_app(start_scheduler=False)
    faro = app.extensions["faro"]
    atexit.register(faro.close)
    with app.app_context():
        prepare_database(faro, seed_demo=True)
    settings = faro.settings
    if settings.run_scheduler:
        start_background(faro)
    log.info(
        "Faro on http://127.0.0.1:%s (simulator: /simulator, transport: %s)",
        settings.port,
        settings.sms_transport,
    )
    app.run(host="127.0.0.1", port=settings.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
