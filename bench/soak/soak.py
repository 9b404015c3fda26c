"""The Python half of `make soak`: 1000 callers of one TokenClient — 500 threads and 500 asyncio tasks —
calling without pause (a few milliseconds apart) for the given time against a token endpoint that issues
2-second tokens and fails some requests. Counts calls, errors and tokens handed out after their exp, and
samples the process's RSS and open file descriptors. Writes JSON to the given path.

    python soak.py TOKEN_URL SECONDS OUT.json
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import sys
import threading
import time

from m2m_auth import M2MAuthError, TokenClient

THREADS = 500
TASKS = 500
SAMPLE_EVERY = 5.0


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.errors = 0
        self.expired = 0
        self.first_errors: list[str] = []

    def record(self, began: float, token: str | None, error: Exception | None) -> None:
        with self.lock:
            self.calls += 1
            if error is not None:
                self.errors += 1
                if len(self.first_errors) < 5:
                    self.first_errors.append(repr(error))
            elif token is not None and began >= exp_of(token):
                self.expired += 1


def exp_of(token: str) -> float:
    payload = token.split(".")[1]
    return float(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    token_url, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    client = TokenClient(token_url=token_url, client_id="demo-client", client_secret="demo-secret")
    tally = Tally()
    start = time.monotonic()
    end = start + seconds

    def thread_caller() -> None:
        rnd = random.Random()
        while time.monotonic() < end:
            began = time.time()
            try:
                tally.record(began, client.get_token(), None)
            except M2MAuthError as e:
                tally.record(began, None, e)
            time.sleep(rnd.uniform(0.0, 0.02))

    async def task_caller(rnd: random.Random) -> None:
        while time.monotonic() < end:
            began = time.time()
            try:
                tally.record(began, await client.get_token_async(), None)
            except M2MAuthError as e:
                tally.record(began, None, e)
            await asyncio.sleep(rnd.uniform(0.0, 0.02))

    async def all_tasks() -> None:
        await asyncio.gather(*(task_caller(random.Random()) for _ in range(TASKS)))

    workers = [threading.Thread(target=thread_caller, daemon=True) for _ in range(THREADS)]
    workers.append(threading.Thread(target=lambda: asyncio.run(all_tasks()), daemon=True))
    for w in workers:
        w.start()
    samples = []
    while time.monotonic() < end:
        time.sleep(SAMPLE_EVERY)
        samples.append(
            {
                "t": round(time.monotonic() - start, 1),
                "rss_kib": rss_kib(),
                "fds": len(os.listdir("/proc/self/fd")),
                "calls": tally.calls,
            }
        )
    for w in workers:
        w.join(timeout=30)
    result = {
        "language": "python",
        "callers": THREADS + TASKS,
        "seconds": seconds,
        "calls": tally.calls,
        "errors": tally.errors,
        "first_errors": tally.first_errors,
        "expired": tally.expired,
        "stats": client.stats(),
        "samples": samples,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
