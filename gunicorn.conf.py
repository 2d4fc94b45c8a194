"""gunicorn's settings for Faro's web process:

    gunicorn -c gunicorn.conf.py 'app:create_app()'


Behind a TLS proxy on the same machine (nginx, Caddy): gunicorn listens on loopback only,
the proxy forwards `X-Forwarded-For` and `X-Forwarded-Proto` (Faro's ProxyFix trusts exactly
one proxy when PUBLIC_BASE_URL is https). The webhook signature is checked against
PUBLIC_BASE_URL, never against the Host the proxy passes, so it holds whatever the proxy does.

Each worker builds its own app (no preload): its own database pool, its own dispatcher and
spool-replay threads. The scheduler is not here: run `flask --app app scheduler` beside it
(deploy/faro-scheduler@.service).
"""

import os

# Where the TLS proxy reaches us. `--bind` on the command line (or GUNICORN_CMD_ARGS) wins.
bind = "127.0.0.1:8000"
# Two workers a core is plenty for webhooks that write one row and answer (WEB_CONCURRENCY,
# gunicorn's own variable, overrides).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4
# Twilio gives up on a webhook after 15 s; a worker stuck for 30 s is restarted.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, with jitter so they do not all restart at once.
max_requests = 20_000
max_requests_jitter = 2_000
# The proxy on loopback may say which scheme the client used.
forwarded_allow_ips = "127.0.0.1"

# Logs to standard error (journald keeps them); under production settings (SMS_TRANSPORT=
# twilio) one JSON object a line, like the app's own (bot/logs.py).
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
if os.environ.get("SMS_TRANSPORT", "").strip() == "twilio":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },  # fmt: skip
        "root": {"level": "INFO", "handlers": []},  # the app adds its own (bot/logs.py)
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
