"""One Python process of a fleet: `callers` threads ask for the token until the run ends (or once, with
seconds 0), each checking that no token it is handed had expired when it asked. Prints a JSON summary.

Usage: python worker.py '<json config>'  (token_url, cache_url, callers, start_at, seconds, options)
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from typing import Any

from m2m_auth import TokenClient


def jwt_exp(token: str) -> float:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


def main() -> None:
    config: dict[str, Any] = json.loads(sys.argv[1])
    client = TokenClient(
        token_url=config["token_url"],
        client_id="demo-client",
        client_secret="demo-secret",
        cache_url=config["cache_url"],
        **config.get("options", {}),
    )
    lock = threading.Lock()
    summary: dict[str, Any] = {"calls": 0, "errors": [], "expired": 0, "tokens": set(), "max_wait": 0.0}
    late: list[dict[str, float]] = []
    print("ready", file=sys.stderr, flush=True)
    time.sleep(max(0.0, config["start_at"] - time.time()))
    end = config["start_at"] + config["seconds"]

    def caller() -> None:
        calls, expired, tokens, errors, max_wait = 0, 0, set(), [], 0.0
        while True:
            asked = time.time()
            try:
                token = client.get_token()
                handed = time.time()
                max_wait = max(max_wait, handed - asked)
                # Expired already when the caller asked (a process descheduled between the hand-out and the
                # clock read must not count: 8 processes share 2 cores here).
                if jwt_exp(token) <= asked:
                    expired += 1
                    late.append({"exp": jwt_exp(token), "asked": asked, "handed": handed})
                tokens.add(token)
            except Exception as e:  # noqa: BLE001 - every error is what the test counts
                errors.append(f"{type(e).__name__}: {e}")
            calls += 1
            if time.time() >= end:
                break
        with lock:
            summary["calls"] += calls
            summary["expired"] += expired
            summary["tokens"] |= tokens
            summary["errors"] += errors[:5]
            summary["max_wait"] = max(summary["max_wait"], max_wait)

    threads = [threading.Thread(target=caller) for _ in range(config["callers"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    summary["tokens"] = sorted(summary["tokens"])
    summary["stats"] = client.stats()
    summary["late"] = late[:3]
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
