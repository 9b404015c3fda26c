"""Checks the results of `make soak` and writes bench/soak.md: 0 caller errors, 0 expired tokens handed out,
RSS flat (the last minute within 5 % of the second), file descriptors flat. Exits 1 if a check fails.

    python report.py PY.json NODE.json MOCK_STATS.json OUT.md
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from typing import Any


def windows(seconds: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The second minute and the last minute; in a run shorter than three minutes, the second and last sixth."""
    if seconds >= 180:
        return (60.0, 120.0), (seconds - 60.0, seconds + 1.0)
    sixth = seconds / 6
    return (sixth, 2 * sixth), (seconds - sixth, seconds + 1.0)


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def check(result: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    early, late = windows(result["seconds"])
    pick = lambda w, k: [s[k] for s in result["samples"] if w[0] <= s["t"] < w[1]]  # noqa: E731
    rss_early, rss_late = mean(pick(early, "rss_kib")), mean(pick(late, "rss_kib"))
    fds_early, fds_late = pick(early, "fds"), pick(late, "fds")
    growth = (rss_late - rss_early) / rss_early if rss_early else float("nan")
    failures = []
    if result["errors"]:
        failures.append(f"{result['errors']} caller errors, e.g. {result['first_errors'][:2]}")
    if result["expired"]:
        failures.append(f"{result['expired']} expired tokens handed out")
    if not (abs(growth) <= 0.05):
        failures.append(f"RSS moved {growth:+.1%} from the early window to the last")
    if not fds_early or not fds_late or max(fds_late) > max(fds_early) + 2:
        failures.append(f"file descriptors grew: {fds_early} -> {fds_late}")
    numbers = {
        "rss_early_mib": rss_early / 1024,
        "rss_late_mib": rss_late / 1024,
        "rss_growth": growth,
        "fds": f"{min(fds_early, default=0)}–{max(fds_early, default=0)} → "
        f"{min(fds_late, default=0)}–{max(fds_late, default=0)}",
    }
    return failures, numbers


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, Node {node}"
    )


def main() -> int:
    py_path, node_path, mock_path, out = sys.argv[1:5]
    results = [json.load(open(p, encoding="utf-8")) for p in (py_path, node_path)]
    mock = json.load(open(mock_path, encoding="utf-8"))
    seconds = results[0]["seconds"]
    rows, all_failures = [], []
    for r in results:
        failures, n = check(r)
        all_failures += [f"{r['language']}: {f}" for f in failures]
        rows.append(
            f"| {r['language']} | {r['callers']} | {r['calls']:,} | {r['errors']} | {r['expired']} | "
            f"{n['rss_early_mib']:.1f} → {n['rss_late_mib']:.1f} MiB ({n['rss_growth']:+.1%}) | {n['fds']} | "
            f"{r['stats']['fetches']} / {r['stats']['failures']} |"
        )
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    verdict = "every check passed" if not all_failures else "FAILED: " + "; ".join(all_failures)
    lines = [
        "# Soak",
        "",
        f"`make soak`, {when}, {seconds / 60:.0f} minutes on {machine()}.",
        "",
        "One mock token endpoint (release build) issuing 2-second tokens, answering one token request in 20 with",
        "a 503 and dropping the connection mid-answer for one in 50; against it, at the same time, one Python",
        "process (500 threads and 500 asyncio tasks) and one Node process (1000 Promises), each with one",
        "TokenClient, every caller calling again 0–20 ms after each answer.",
        "",
        "| process | callers | calls | caller errors | expired tokens handed out | RSS, early → last minute | "
        "open fds, early → last | fetches / failed fetches |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"The token endpoint saw {mock['token_requests']:,} requests and issued {mock['tokens_issued']:,} tokens "
        "(the rest: injected faults).",
        "",
        "The windows: the second minute and the last minute of the run (RSS within 5 %, descriptors within 2).",
        "",
        f"Result: {verdict}.",
        "",
    ]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    return 1 if all_failures else 0


if __name__ == "__main__":
    sys.exit(main())
