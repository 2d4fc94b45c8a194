"""Benchmark: what one signed `ok` costs in one process, Faro beside the floor.

    .venv/bin/python bench/calls.py                  # SQLite, 300 texts each
    .venv/bin/python bench/calls.py --engine postgresql --top 25

No gunicorn and no network: Flask's test client posts signed `ok` texts (prepared before the
clock starts), each from a different intern with an open check-in whose ping has left (as in
bench/webhooks.py), first to the floor (bench/floor.py), then to Faro. Prints, for each, the
wall and CPU time per text and, under cProfile, the Python function calls per text: the figure
that does not move with the machine's load. `--top N` lists Faro's N costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhooks import PUBLIC, database, seed, signed, twilio_settings  # noqa: E402

PORT = 80  # of the URL the texts are signed for (the test client listens nowhere)
WARM = 20  # texts first, so that imports, pools and compiled statements are in place


def measure(client, requests: list[tuple[str, dict[str, str]]], top: int = 0) -> str:
    """Post `requests`: time per text, then function calls per text under cProfile."""

    def post(request: tuple[str, dict[str, str]]) -> None:
        response = client.post("/twilio/sms", data=request[0], headers=request[1])
        if response.status_code != 200 or b"<Message>" not in response.data:
            raise SystemExit(f"the webhook answered {response.status_code}: {response.data!r}")

    for request in requests[:WARM]:
        post(request)
    texts = (len(requests) - WARM) // 2
    timed, profiled = requests[WARM : WARM + texts], requests[WARM + texts :]
    wall, cpu = time.perf_counter(), time.process_time()
    for request in timed:
        post(request)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    profile = cProfile.Profile()
    profile.enable()
    for request in profiled:
        post(request)
    profile.disable()
    stats = pstats.Stats(profile)
    line = (
        f"{wall / len(timed) * 1000:.2f} ms a text ({cpu / len(timed) * 1000:.2f} ms of CPU), "
        f"{stats.total_calls / len(profiled):,.0f} function calls a text"
    )
    if top:
        stats.sort_stats("tottime").print_stats(top)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()
    count = 2 * (WARM + 2 * args.texts)  # for each app: warming, timed, profiled
    with tempfile.TemporaryDirectory() as tmp:
        url, server = database(args.engine, tmp)
        try:
            phones = seed(url, count)
            os.environ.update(twilio_settings(url, "http://127.0.0.1:9", f"{PUBLIC}:{PORT}"))
            os.environ["SMS_TRANSPORT"] = "console"  # nothing leaves: the `ok` alone
            texts = [signed(PORT, phone, "ok", f"SMcalls{n}") for n, phone in enumerate(phones)]
            from bench.floor import create_app as floor_app

            floor = measure(floor_app().test_client(), texts[: count // 2])
            from app import create_app

            faro = measure(create_app().test_client(), texts[count // 2 :], args.top)
        finally:
            if server is not None:
                server.stop()
    print(f"engine={args.engine}, {args.texts} texts each")
    print(f"floor: {floor}")
    print(f"faro : {faro}")


if __name__ == "__main__":
    main()
