"""Runs every metric for every Python implementation against the running mock; writes one JSON file.

    python run.py --mock-url http://127.0.0.1:PORT --out ../.build/python.json [--wheel PATH]
        [--only NAME,…] [--metrics client,shared,verify]

A metric that fails for an implementation is recorded as {"error": "..."}; the run goes on. --metrics
(default: $BENCH_ONLY, else all) picks the groups: client (cached get, cold herd, rotation, footprint),
shared (the Redis fleet and cached get), verify (the Verifier's metrics).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import metrics
import peers
from peers import ALL, BY_NAME, FLEET, IMPORTS, VERIFIERS, Endpoint

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"  # registered in bench/mock-config.json
HERD_SIZES = (64, 1000)
FLEET_SIZES = (8, 32)
METRIC_GROUPS = ("client", "shared", "verify")


def log(msg: str) -> None:
    print(f"[python] {msg}", file=sys.stderr, flush=True)


def attempt(what: str, fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """fn(*args), logged; an exception becomes {"error": ...}."""
    started = time.perf_counter()
    try:
        result = fn(*args)
    except Exception as e:
        log(f"  {what}: FAILED {type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stderr)
        return {"error": f"{type(e).__name__}: {e}"[:300]}
    log(f"  {what}: {json.dumps(_brief(result))} ({time.perf_counter() - started:.1f} s)")
    return result


def _brief(result: dict[str, Any]) -> dict[str, Any]:
    def short(v: Any) -> Any:
        if isinstance(v, dict) and "ns" in v:  # a measurement of a breakdown: its median
            v = v["ns"]
        return round(v, 1) if isinstance(v, float) else v

    return {k: short(v) for k, v in result.items() if not k.endswith("s_ns") and not k.startswith("runs_")}


def shared_cache(ep: Endpoint, mock: metrics.Mock, only: set[str] | None) -> tuple[Any, list[dict[str, Any]]]:
    """The metrics of the shared cache, with one real redis-server for all of them: the cached get with
    cache_url set (against the memory cache, alternating), and the fleet of every FLEET implementation."""
    from m2m_auth.testing import RedisServer

    try:
        redis = RedisServer()
    except Exception as e:  # no redis-server: these cells fail, the run goes on
        log(f"redis-server: FAILED {type(e).__name__}: {e}")
        failed = {"error": f"redis-server: {type(e).__name__}: {e}"[:300]}
        fleet = [
            {"name": c.name, "label": c.label, "runs": {str(n): failed for n in FLEET_SIZES}} for c in FLEET
        ]
        return failed, [f for f in fleet if not only or f["name"] in only]
    log(f"redis-server at {redis.url}")
    try:
        ep = dataclasses.replace(ep, cache_url=redis.url)
        redis_cached_get = None
        if not only or "m2m-auth-redis" in only:
            log("m2m-auth-redis vs m2m-auth")
            redis_cached_get = attempt(
                "cached get, Redis vs memory",
                metrics.cached_get_vs_memory,
                BY_NAME["m2m-auth-redis"],
                BY_NAME["m2m-auth"],
                ep,
            )
        fleet = []
        for cls in FLEET:
            if only and cls.name not in only:
                continue
            log(f"{cls.name}")
            runs = {str(n): attempt(f"fleet N={n}", metrics.fleet, cls, ep, mock, n) for n in FLEET_SIZES}
            fleet.append({"name": cls.name, "label": cls.label, "runs": runs})
    finally:
        redis.close()
    return redis_cached_get, fleet


def verification(mock: metrics.Mock, only: set[str] | None) -> dict[str, Any]:
    """The Verifier's metrics for every verifier (peers.VERIFIERS): a new token, a repeated token, the
    unknown-kid storm; and where m2m-auth's time for a repeated token goes. The tokens are minted here, once,
    and every verifier gets the same ones."""
    iss = metrics.verify_issuer(mock)
    log(f"verification: issuer {iss.issuer}, JWKS {iss.jwks_uri}")
    new_count = metrics.VERIFY_NEW_BATCHES * metrics.VERIFY_NEW_BATCH
    fresh = metrics.mint_tokens(mock, count=metrics.VERIFY_WARMUP + new_count)
    warmup, new = fresh[: metrics.VERIFY_WARMUP], fresh[metrics.VERIFY_WARMUP :]
    batches = [new[i : i + metrics.VERIFY_NEW_BATCH] for i in range(0, new_count, metrics.VERIFY_NEW_BATCH)]
    storm = metrics.mint_tokens(mock, count=metrics.STORM_TOKENS, sign="other_key", distinct_kids=True)
    repeated = warmup[0]
    impls = []
    for cls in VERIFIERS:
        if only and cls.name not in only:
            continue
        log(f"verifier {cls.name}")
        entry: dict[str, Any] = {"name": cls.name, "label": cls.label, "mode": cls.mode}
        entry["verify_new"] = attempt("verify, new token", metrics.verify_new, cls, iss, warmup, batches)
        entry["verify_repeat"] = attempt("verify, repeated token", metrics.verify_repeat, cls, iss, repeated)
        entry["unknown_kid_storm"] = attempt(
            "unknown-kid storm", metrics.unknown_kid_storm, cls, iss, mock, storm
        )
        impls.append(entry)
    breakdown = None
    if not only or "m2m-auth" in only:
        breakdown = attempt("breakdown of a repeated verify", metrics.verify_breakdown, iss, repeated)
    mock.reset()
    return {
        "issuer": iss.issuer,
        "token_bytes": len(repeated),
        "settings": {
            "warmup_tokens": metrics.VERIFY_WARMUP,
            "new_batches": metrics.VERIFY_NEW_BATCHES,
            "new_batch_tokens": metrics.VERIFY_NEW_BATCH,
            "repeat_batches": metrics.BATCHES,
            "repeat_batch_seconds": metrics.BATCH_SECONDS,
            "storm_tokens": metrics.STORM_TOKENS,
            "leeway_secs": peers.LEEWAY_SECS,
            "algorithms": peers.ALGORITHMS,
        },
        "impls": impls,
        "breakdown": breakdown,
    }


def metric_groups(arg: str | None) -> set[str]:
    """The metric groups to run: --metrics, else $BENCH_ONLY, else all."""
    text = arg if arg is not None else os.environ.get("BENCH_ONLY", "")
    groups = {g.strip() for g in text.split(",") if g.strip()} or set(METRIC_GROUPS)
    unknown = groups - set(METRIC_GROUPS)
    if unknown:
        raise SystemExit(f"unknown metric group(s) {sorted(unknown)}: choose from {', '.join(METRIC_GROUPS)}")
    return groups


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mock-url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--wheel", help="the m2m-auth wheel, for its size")
    parser.add_argument("--only", help="comma-separated implementation names (default: all)")
    parser.add_argument("--metrics", help=f"comma-separated metric groups of {METRIC_GROUPS} (default: all)")
    args = parser.parse_args()
    groups = metric_groups(args.metrics)
    # requests/urllib3 warn about full connection pools under 1000 threads; that is the library's business.
    logging.basicConfig(level=logging.ERROR)

    mock = metrics.Mock(args.mock_url)
    ep = Endpoint(f"{mock.url}/oauth2/token", CLIENT_ID, CLIENT_SECRET)
    only = set(args.only.split(",")) if args.only else None
    log(f"metric groups: {', '.join(g for g in METRIC_GROUPS if g in groups)}")
    impls = []
    for cls in ALL if "client" in groups else []:
        if only and cls.name not in only:
            continue
        log(f"{cls.name}")
        entry: dict[str, Any] = {"name": cls.name, "label": cls.label, "mode": cls.mode, "floor": cls.floor}
        entry["cached_get"] = attempt("cached get", metrics.cached_get, cls, ep)
        if not cls.floor:
            entry["herd"] = {
                str(n): attempt(f"cold herd N={n}", metrics.cold_herd, cls, ep, mock, n) for n in HERD_SIZES
            }
            entry["rotation"] = attempt("rotation", metrics.rotation, cls, ep, mock)
        if cls.name in IMPORTS:
            entry["import"] = attempt("import", metrics.import_ms, IMPORTS[cls.name])
            entry["rss"] = attempt("rss", metrics.rss_kib, cls.name, ep)
        impls.append(entry)
    redis_cached_get, fleet = shared_cache(ep, mock, only) if "shared" in groups else (None, [])
    verify = verification(mock, only) if "verify" in groups else None

    result = {
        "language": "python",
        "runtime": f"Python {platform.python_version()} ({platform.python_implementation()})",
        "package_bytes": Path(args.wheel).stat().st_size if args.wheel else None,
        "package_file": Path(args.wheel).name if args.wheel else None,
        "settings": {
            "batches": metrics.BATCHES,
            "batch_seconds": metrics.BATCH_SECONDS,
            "herd_sizes": list(HERD_SIZES),
            "herd_timeout_secs": metrics.HERD_TIMEOUT,
            "rotation_callers": metrics.CALLERS,
            "rotation_lifetime_secs": metrics.LIFETIME_SECS,
            "rotation_rotations": metrics.ROTATIONS,
            "slow_ms": metrics.SLOW_MS,
            "exp_tolerance_secs": metrics.EXP_TOLERANCE_SECS,
            "fleet_sizes": list(FLEET_SIZES),
            "fleet_callers": metrics.FLEET_CALLERS,
            "fleet_seconds": metrics.FLEET_SECONDS,
            "fleet_pause_ms": metrics.FLEET_PAUSE * 1e3,
            "fleet_lifetimes": metrics.FLEET_LIFETIMES,
        },
        "impls": impls,
        "redis_cached_get": redis_cached_get,
        "fleet": fleet,
        "verify": verify,
        "metric_groups": [g for g in METRIC_GROUPS if g in groups],
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
