"""The benchmark's metrics for one Python implementation (see bench/README.md).

Each returns a JSON-ready dict; the caller records an exception as that metric's failure."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import dataclasses
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from itertools import repeat
from pathlib import Path
from typing import Any, Callable

# Cached get: the median of BATCHES batches of about BATCH_SECONDS each.
BATCHES = 7
BATCH_SECONDS = 0.2
# Cold herd: stop waiting for the callers after this long (a peer that fetches one caller at a time needs
# N round trips; the process ends with the callers still waiting, reported as timed out).
HERD_TIMEOUT = 10.0
# Rotation: callers, token lifetime, lifetimes looped; a call slower than SLOW_MS waited on the network. New
# tokens that callers first got within ROTATION_GAP seconds of each other belong to one rotation. Between
# calls each caller pauses PAUSE seconds, as a service does other work between requests (and so that the
# callers do not fight over the GIL, which alone would make calls slow).
CALLERS = 8
LIFETIME_SECS = 2
ROTATIONS = 3
SLOW_MS = 5.0
ROTATION_GAP = LIFETIME_SECS / 4
PAUSE = 0.001
# The mock's tokens carry `exp` in whole seconds (iat rounded down), so a token fetched up to a second
# before its client-side expiry may be past `exp`: a token counts as expired only after exp + 1 s.
EXP_TOLERANCE_SECS = 1.0
# Fleet: N processes of one implementation, each one fresh client with FLEET_CALLERS threads calling get()
# for FLEET_LIFETIMES token lifetimes of LIFETIME_SECS, pausing FLEET_PAUSE between calls (32 Python
# processes share 2 cores: what is counted is token requests, not speed). The loop ends a tenth of a
# lifetime early, so that a client fetching at expiry does not start a fourth fetch on the boundary.
FLEET_CALLERS = 2
FLEET_PAUSE = 0.01
FLEET_LIFETIMES = 3
FLEET_SECONDS = LIFETIME_SECS * (FLEET_LIFETIMES - 0.1)
# Until every process has imported its library and built its client (32 at once on 2 cores: seconds).
FLEET_READY_TIMEOUT = 120.0
# Footprint: fresh processes per measurement.
IMPORT_RUNS = 7
RSS_RUNS = 3

HERE = Path(__file__).resolve().parent


class Mock:
    """The admin API of the `m2m-auth mock` server: counters, reset and token lifetime."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else b"" if method == "POST" else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        with self._opener.open(request, timeout=10) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        """Counters to zero and the token lifetime back to the configured one."""
        self._call("POST", "/mock/reset")

    def token_requests(self) -> int:
        return int(self._call("GET", "/mock/stats")["token_requests"])

    def set_token_lifetime(self, secs: int) -> None:
        self._call("POST", "/mock/token-lifetime", {"secs": secs})


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"[:300]


# ---------------------------------------------------------------------------------------------- cached get


def cached_get(cls: Any, ep: Any) -> dict[str, Any]:
    """Nanoseconds per call of a cached token: median of BATCHES batches."""
    impl = cls(ep)
    if cls.mode == "async":
        per_call = asyncio.run(_cached_async(impl.get))
    else:
        per_call = _cached_sync(impl.get)
    return {"ns": statistics.median(per_call), "batches_ns": per_call}


def _calibrate(run: Callable[[int], int]) -> int:
    """The number of calls that makes a batch of `run` take about BATCH_SECONDS."""
    n = 1000
    elapsed = run(n)
    while elapsed < 20_000_000:  # 20 ms, then scale to BATCH_SECONDS
        n *= 10
        elapsed = run(n)
    return max(1000, int(n * BATCH_SECONDS * 1e9 / elapsed))


def _batches(run: Callable[[int], int]) -> list[float]:
    """Calibrates a batch to about BATCH_SECONDS, then runs BATCHES of them: ns per call of each."""
    n = _calibrate(run)
    gc.collect()
    return [run(n) / n for _ in range(BATCHES)]


def _timed_loop(get: Callable[[], str]) -> Callable[[int], int]:
    """run(n): calls get() n times; the nanoseconds it took."""

    def run(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in repeat(None, n):
            get()
        return time.perf_counter_ns() - start

    return run


def _cached_sync(get: Callable[[], str]) -> list[float]:
    if not get():
        raise RuntimeError("no token")
    return _batches(_timed_loop(get))


async def _cached_async(get: Callable[[], Any]) -> list[float]:
    if not await get():
        raise RuntimeError("no token")

    async def run_async(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in repeat(None, n):
            await get()
        return time.perf_counter_ns() - start

    n = 1000
    elapsed = await run_async(n)
    while elapsed < 20_000_000:
        n *= 10
        elapsed = await run_async(n)
    n = max(1000, int(n * BATCH_SECONDS * 1e9 / elapsed))
    gc.collect()
    return [await run_async(n) / n for _ in range(BATCHES)]


def cached_get_vs_memory(cls: Any, memory_cls: Any, ep: Any) -> dict[str, Any]:
    """The cached get of `cls` (m2m-auth with cache_url set: the in-process cache answers, Redis is only
    asked on a miss) and of `memory_cls` (m2m-auth, memory only), in alternating batches of the same size.
    The target is a ratio within 10%, less than a shared 2-core machine drifts over the minutes between two
    separate measurements; alternating (the order swapped every round) cancels that drift."""
    impl, memory = cls(fresh_cache(ep)), memory_cls(ep)
    if not impl.get() or not memory.get():
        raise RuntimeError("no token")
    run, memory_run = _timed_loop(impl.get), _timed_loop(memory.get)
    n = _calibrate(memory_run)
    _calibrate(run)  # its warm-up too
    gc.collect()
    ns: list[float] = []
    memory_ns: list[float] = []
    for b in range(BATCHES):
        rounds = [(run, ns), (memory_run, memory_ns)]
        for r, out in rounds if b % 2 else reversed(rounds):
            out.append(r(n) / n)
    stats = impl.client.stats()
    return {
        "ns": statistics.median(ns),
        "batches_ns": ns,
        "memory_ns": statistics.median(memory_ns),
        "memory_batches_ns": memory_ns,
        "x_memory": statistics.median(ns) / statistics.median(memory_ns),
        "fetches": stats.get("fetches"),
    }


def fresh_cache(ep: Any) -> Any:
    """`ep` with a shared-cache prefix of its own, so that this measurement finds nothing an earlier one left
    in Redis (the token's name there depends only on the credential and the endpoint)."""
    return dataclasses.replace(ep, cache_prefix=f"bench-{os.getpid()}-{time.time_ns()}:")


# ----------------------------------------------------------------------------------------------- cold herd


def cold_herd(cls: Any, ep: Any, mock: Mock, n: int) -> dict[str, Any]:
    """N first callers at once on an empty cache: token requests the endpoint saw, time until all had one.

    Runs in a fresh process (herd.py), so that callers still waiting at HERD_TIMEOUT end with it instead
    of sending requests into the next measurement."""
    mock.reset()
    args = [str(HERE / "herd.py"), cls.name, str(n), ep.token_url, ep.client_id, ep.client_secret]
    result = json.loads(_child(args, timeout=HERD_TIMEOUT + 60))
    time.sleep(0.05)  # a request that a timed-out caller had in flight reaches the counters
    return {"n": n, "token_requests": mock.token_requests(), **result}


def herd_in_process(cls: Any, ep: Any, n: int) -> dict[str, Any]:
    """The herd itself (called by herd.py): the outcome of each caller, and the wall time."""
    impl = cls(ep)
    if cls.mode == "async":
        outcomes, wall, timed_out = asyncio.run(_herd_async(impl.get, n))
    else:
        outcomes, wall, timed_out = _herd_threads(impl.get, n)
    errors = [o[1] for o in outcomes if o[0] == "error"]
    tokens = {o[1] for o in outcomes if o[0] == "ok"}
    return {
        "wall_ms": wall * 1e3,
        "ok": n - len(errors) - timed_out,
        "errors": len(errors),
        "timed_out": timed_out,
        "distinct_tokens": len(tokens),
        "error_sample": errors[0] if errors else None,
    }


def _herd_threads(get: Callable[[], str], n: int) -> tuple[list[tuple[str, str]], float, int]:
    outcomes: list[tuple[str, str]] = [("timeout", "")] * n
    finished = [0.0] * n
    barrier = threading.Barrier(n + 1)

    def caller(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = ("ok", get())
        except Exception as e:  # a peer that is not thread-safe: recorded, not raised
            outcomes[i] = ("error", _error(e))
        finished[i] = time.perf_counter()

    threads = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    barrier.wait()
    deadline = start + HERD_TIMEOUT
    for t in threads:
        t.join(max(0.0, deadline - time.perf_counter()))
    timed_out = sum(t.is_alive() for t in threads)
    wall = max(finished) - start if timed_out == 0 else HERD_TIMEOUT
    return outcomes, wall, timed_out


async def _herd_async(get: Callable[[], Any], n: int) -> tuple[list[tuple[str, str]], float, int]:
    async def caller() -> tuple[str, str]:
        try:
            return ("ok", await get())
        except Exception as e:
            return ("error", _error(e))

    start = time.perf_counter()
    try:
        outcomes = await asyncio.wait_for(asyncio.gather(*(caller() for _ in range(n))), HERD_TIMEOUT)
    except asyncio.TimeoutError:
        return [("timeout", "")] * n, HERD_TIMEOUT, n
    return list(outcomes), time.perf_counter() - start, 0


# ------------------------------------------------------------------------------------------------ rotation


class _Caller:
    """What one rotation caller saw."""

    def __init__(self) -> None:
        self.calls = 0
        self.max_ns = 0
        self.slow = 0
        self.expired = 0
        self.errors = 0
        self.error_sample: str | None = None


class _Tokens:
    """Every token the callers received: its `exp`, and when a caller first had it."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[float, float]] = {}

    def expired(self, token: str) -> bool:
        """Whether the JWT's exp (+ EXP_TOLERANCE_SECS) has passed now; notes a token not seen before."""
        entry = self.seen.get(token)
        if entry is None:
            payload = token.split(".")[1]
            payload += "=" * (-len(payload) % 4)
            exp = float(json.loads(base64.urlsafe_b64decode(payload))["exp"])
            entry = self.seen.setdefault(token, (exp, time.perf_counter()))
        return time.time() > entry[0] + EXP_TOLERANCE_SECS

    def rotations(self, first: str) -> int:
        """How many times the callers moved to new tokens: new tokens first had within ROTATION_GAP of
        each other (a peer's callers each fetching their own at expiry) are one rotation."""
        times = sorted(t for token, (_, t) in self.seen.items() if token != first)
        return sum(1 for i, t in enumerate(times) if i == 0 or t - times[i - 1] > ROTATION_GAP)


def _call(get: Callable[[], str], caller: _Caller, tokens: _Tokens) -> None:
    start = time.perf_counter_ns()
    try:
        token = get()
    except Exception as e:
        caller.errors += 1
        caller.error_sample = caller.error_sample or _error(e)
        token = None
    _record(caller, time.perf_counter_ns() - start, token, tokens)


def _record(caller: _Caller, elapsed_ns: int, token: str | None, tokens: _Tokens) -> None:
    caller.calls += 1
    caller.max_ns = max(caller.max_ns, elapsed_ns)
    caller.slow += elapsed_ns > SLOW_MS * 1e6
    caller.expired += token is not None and tokens.expired(token)


def rotation(cls: Any, ep: Any, mock: Mock) -> dict[str, Any]:
    """CALLERS callers loop for ROTATIONS token lifetimes of LIFETIME_SECS (plus a quarter, so that a
    client that fetches only at expiry reaches its last one too)."""
    mock.reset()
    mock.set_token_lifetime(LIFETIME_SECS)
    duration = LIFETIME_SECS * (ROTATIONS + 0.25)
    tokens = _Tokens()
    callers = [_Caller() for _ in range(CALLERS)]
    try:
        impl = cls(ep)
        if cls.mode == "async":
            first, requests = asyncio.run(_rotation_async(impl.get, mock, duration, callers, tokens))
        else:
            first, requests = _rotation_threads(impl.get, mock, duration, callers, tokens)
    finally:
        mock.reset()
    rotations = tokens.rotations(first)
    errors = [c.error_sample for c in callers if c.error_sample]
    return {
        "callers": CALLERS,
        "seconds": duration,
        "calls": sum(c.calls for c in callers),
        "max_ms": max(c.max_ns for c in callers) / 1e6,
        "slow_calls": sum(c.slow for c in callers),
        "callers_waited": sum(c.slow > 0 for c in callers),
        "token_requests": requests,
        "rotations": rotations,
        "requests_per_rotation": requests / rotations if rotations else None,
        "expired": sum(c.expired for c in callers),
        "errors": sum(c.errors for c in callers),
        "callers_failed": sum(c.expired + c.errors > 0 for c in callers),
        "error_sample": errors[0] if errors else None,
    }


def _rotation_threads(
    get: Callable[[], str], mock: Mock, duration: float, callers: list[_Caller], tokens: _Tokens
) -> tuple[str, int]:
    first = get()  # the first token; requests are counted from here
    base = mock.token_requests()
    end = time.perf_counter() + duration

    def loop(caller: _Caller) -> None:
        while time.perf_counter() < end:
            _call(get, caller, tokens)
            time.sleep(PAUSE)

    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in callers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 60)
    return first, mock.token_requests() - base


async def _rotation_async(
    get: Callable[[], Any], mock: Mock, duration: float, callers: list[_Caller], tokens: _Tokens
) -> tuple[str, int]:
    first = await get()  # the first token; requests are counted from here
    base = mock.token_requests()
    end = time.perf_counter() + duration

    async def loop(caller: _Caller) -> None:
        while time.perf_counter() < end:
            start = time.perf_counter_ns()
            try:
                token = await get()
            except Exception as e:
                caller.errors += 1
                caller.error_sample = caller.error_sample or _error(e)
                token = None
            _record(caller, time.perf_counter_ns() - start, token, tokens)
            await asyncio.sleep(PAUSE)

    await asyncio.gather(*(loop(c) for c in callers))
    return first, mock.token_requests() - base


# --------------------------------------------------------------------------------------------------- fleet


def fleet(cls: Any, ep: Any, mock: Mock, n: int) -> dict[str, Any]:
    """N processes (fleet.py), each one fresh client, that begin together (their cold start is part of it)
    and call get() for FLEET_LIFETIMES lifetimes: the token requests the endpoint saw, per rotation and per
    lifetime.

    A rotation is a move of one process to a new token, the first one included (counted in each process as
    in the rotation metric, the median over the processes): the fleet's requests per rotation are what it
    sends each time one client alone would send one, 1 for a fleet that shares its token, N for N processes
    that each fetch their own. Per lifetime is not the same: the mock writes `exp` in whole seconds, iat
    rounded down, so m2m-auth (which takes the earlier of `exp` and `expires_in`) sees a 2 s token live
    1-2 s and refreshes it at 80% of that, about every second; peers keep it for `expires_in`."""
    ep = fresh_cache(ep)
    mock.reset()
    mock.set_token_lifetime(LIFETIME_SECS)
    args = [sys.executable, str(HERE / "fleet.py"), cls.name, ep.token_url, ep.client_id, ep.client_secret]
    args += [ep.cache_url, ep.cache_prefix]
    procs: list[subprocess.Popen[str]] = []
    # stderr to files: 32 processes' warnings must not fill pipes that nobody reads until the end.
    errs = [tempfile.TemporaryFile("w+") for _ in range(n)]
    try:
        for err in errs:
            procs.append(
                subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
            )
        _await_ready(procs, errs)
        start = fleet_start(time.time())
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"{start}\n")
            p.stdin.flush()
        members = [json.loads(_member_result(p, err)) for p, err in zip(procs, errs)]
        time.sleep(0.05)  # a request still in flight when a process ended reaches the counters
        requests = mock.token_requests()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for err in errs:
            err.close()
        mock.reset()
    tokens = {t for m in members for t in m["tokens"]}
    errors = [m["error_sample"] for m in members if m["error_sample"]]
    rotations = statistics.median(m["rotations"] for m in members)
    return {
        "processes": n,
        "callers_per_process": FLEET_CALLERS,
        "seconds": FLEET_SECONDS,
        "token_requests": requests,
        "rotations": rotations,
        "rotations_range": [min(m["rotations"] for m in members), max(m["rotations"] for m in members)],
        "requests_per_rotation": requests / rotations if rotations else None,
        "lifetimes": FLEET_LIFETIMES,
        "requests_per_lifetime": requests / FLEET_LIFETIMES,
        "distinct_tokens": len(tokens),
        "calls": sum(m["calls"] for m in members),
        "first_token_ms": max(m["first_token_ms"] for m in members),
        "expired": sum(m["expired"] for m in members),
        "errors": sum(m["errors"] for m in members),
        "processes_failed": sum(m["expired"] + m["errors"] > 0 for m in members),
        "error_sample": errors[0] if errors else None,
        "client_stats": _sum_stats([m["client_stats"] for m in members if m["client_stats"]]),
    }


def fleet_start(now: float) -> float:
    """When the fleet begins (epoch seconds): every process is waiting for it, so they begin at the same
    instant; half a second past a whole second. The mock writes `exp` in whole seconds, so m2m-auth's
    refreshes fall at the same fraction of a second in every run (about .75 here), and the end, at .3, lies
    between two of them: how many fall before the end does not depend on the wall clock at the start."""
    return math.ceil(now + 0.2) + 0.5


def _sum_stats(stats: list[dict[str, Any]]) -> dict[str, Any] | None:
    """m2m-auth's counters (client.stats()) added up over the processes, and one last error: they tell why
    a fleet sent more requests than expected (shared_errors: Redis too slow or down, lock_waits …)."""
    if not stats:
        return None
    total: dict[str, Any] = {k: sum(s[k] for s in stats) for k, v in stats[0].items() if isinstance(v, int)}
    total["last_error"] = next((s["last_error"] for s in stats if s.get("last_error")), None)
    return total


def _await_ready(procs: list[subprocess.Popen[str]], errs: list[Any]) -> None:
    """Waits until every process has printed "ready" (its client is built), within FLEET_READY_TIMEOUT."""
    with concurrent.futures.ThreadPoolExecutor(len(procs)) as pool:
        lines = [pool.submit(p.stdout.readline) for p in procs if p.stdout]
        done, pending = concurrent.futures.wait(lines, FLEET_READY_TIMEOUT)
        if pending:
            for p in procs:
                p.kill()  # unblocks the readlines, so that the pool can end
            raise RuntimeError(
                f"{len(pending)} of {len(procs)} processes not ready after {FLEET_READY_TIMEOUT:g} s"
            )
        for p, err, line in zip(procs, errs, lines):
            if line.result().strip() != "ready":
                raise RuntimeError(f"a process did not start: {_stderr_tail(p, err)}")


def _member_result(p: subprocess.Popen[str], err: Any) -> str:
    """The JSON line a fleet process prints at the end."""
    out, _ = p.communicate(timeout=FLEET_SECONDS + 60)
    if p.returncode != 0 or not out.strip():
        raise RuntimeError(f"a process failed (exit {p.returncode}): {_stderr_tail(p, err)}")
    return out.strip().splitlines()[-1]


def _stderr_tail(p: subprocess.Popen[str], err: Any) -> str:
    p.wait()
    err.seek(0)
    return err.read().strip()[-300:]


def fleet_member(cls: Any, ep: Any) -> dict[str, Any]:
    """One process of a fleet (called by fleet.py): builds its client, says "ready", reads the start time
    (epoch seconds) from stdin, waits for it, then FLEET_CALLERS threads call get() until FLEET_SECONDS
    later. What the process saw: calls, its rotations (moves to a new token, the first one included), the
    tokens (their signatures' tails), expired tokens and errors, and how long after the start every caller
    had its first token."""
    impl = cls(ep)
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    end = start + FLEET_SECONDS
    time.sleep(max(0.0, start - time.time()))
    tokens = _Tokens()
    callers = [_Caller() for _ in range(FLEET_CALLERS)]
    first = [FLEET_SECONDS] * FLEET_CALLERS

    def loop(i: int) -> None:
        caller = callers[i]
        while time.time() < end:
            _call(impl.get, caller, tokens)
            if caller.calls == 1:
                first[i] = time.time() - start
            time.sleep(FLEET_PAUSE)

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(FLEET_CALLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(FLEET_SECONDS + 30)
    errors = [c.error_sample for c in callers if c.error_sample]
    client = getattr(impl, "client", None)  # m2m-auth's TokenClient
    return {
        "client_stats": client.stats() if client is not None else None,
        "calls": sum(c.calls for c in callers),
        "rotations": tokens.rotations(first=""),  # "": no token is left out, the first is a rotation too
        "tokens": [token[-16:] for token in tokens.seen],
        "first_token_ms": max(first) * 1e3,
        "expired": sum(c.expired for c in callers),
        "errors": sum(c.errors for c in callers),
        "error_sample": errors[0] if errors else None,
    }


# ----------------------------------------------------------------------------------------------- footprint


def _child(args: list[str], timeout: float = 120) -> str:
    """Runs the bench venv's Python with `args`; returns the last line it printed."""
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"exit {out.returncode}: {out.stderr.strip()[-300:]}")
    return out.stdout.strip().splitlines()[-1]


def import_ms(module: str) -> dict[str, Any]:
    """Time to import `module` in a fresh interpreter (after start-up), median of IMPORT_RUNS."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    _child(["-c", code])  # warm the file cache
    runs = [float(_child(["-c", code])) * 1e3 for _ in range(IMPORT_RUNS)]
    return {"module": module, "ms": statistics.median(runs), "runs_ms": runs}


def rss_kib(name: str, ep: Any) -> dict[str, Any]:
    """RSS added by one client that got its token, in a fresh process (footprint.py), median of RSS_RUNS."""
    args = [str(HERE / "footprint.py"), name, ep.token_url, ep.client_id, ep.client_secret]
    runs = [int(_child(args)) for _ in range(RSS_RUNS)]
    return {"kib": statistics.median(runs), "runs_kib": runs}


# ------------------------------------------------------------------------------------------- verification
# The receiving side (peers.VERIFIERS). verify_new: each call a token the verifier never saw, after a warm-up
# that fetched the JWKS; VERIFY_NEW_BATCHES batches of VERIFY_NEW_BATCH tokens, every verifier the same
# list, the median of the batches. verify_repeat: one token again and again, as the cached get (batches of
# about BATCH_SECONDS, the median of BATCHES). unknown_kid_storm: STORM_TOKENS tokens, each with a kid of its
# own that no JWKS has, on a fresh verifier: the JWKS requests the issuer saw.
VERIFY_WARMUP = 200
VERIFY_NEW_BATCHES = 7
VERIFY_NEW_BATCH = 500
STORM_TOKENS = 1000


def mint_tokens(mock: Mock, **request: Any) -> list[str]:
    """`POST /mock/tokens`: tokens signed by the mock's key (or as `request` says), aud = the issuer."""
    tokens = mock._call("POST", "/mock/tokens", request)["tokens"]
    if len(tokens) != request.get("count", 1):
        raise RuntimeError(f"asked for {request.get('count', 1)} tokens, got {len(tokens)}")
    return list(tokens)


def verify_issuer(mock: Mock) -> Any:
    """The mock as the issuer verifiers trust: its metadata's issuer (also the tokens' aud) and jwks_uri."""
    from peers import Issuer

    meta = mock._call("GET", "/.well-known/openid-configuration")
    return Issuer(issuer=meta["issuer"], audience=meta["issuer"], jwks_uri=meta["jwks_uri"])


def _verified(claims: Any) -> None:
    """A verifier's answer must be the claims (m2m-auth's Claims, or a dict)."""
    if claims is None:
        raise RuntimeError("verify returned nothing")


def verify_new(cls: Any, iss: Any, warmup: list[str], batches: list[list[str]]) -> dict[str, Any]:
    """Nanoseconds per call of a token seen for the first time: each batch verified in a loop, per call =
    the batch's time / its tokens, the median of the batches. The warm-up tokens before (other tokens) fetch
    the JWKS and warm the code paths."""
    impl = cls(iss)
    verify = impl.verify
    if cls.mode == "async":

        async def run_async() -> list[float]:
            for token in warmup:
                _verified(await verify(token))
            gc.collect()
            out = []
            for batch in batches:
                start = time.perf_counter_ns()
                for token in batch:
                    await verify(token)
                out.append((time.perf_counter_ns() - start) / len(batch))
            return out

        per_call = asyncio.run(run_async())
    else:
        for token in warmup:
            _verified(verify(token))
        gc.collect()
        per_call = []
        for batch in batches:
            start = time.perf_counter_ns()
            for token in batch:
                verify(token)
            per_call.append((time.perf_counter_ns() - start) / len(batch))
    return {
        "ns": statistics.median(per_call),
        "batches_ns": per_call,
        "batch_tokens": len(batches[0]),
        "warmup_tokens": len(warmup),
    }


def _timed_call_loop(fn: Callable[[Any], Any], arg: Any) -> Callable[[int], int]:
    """run(n): calls fn(arg) n times; the nanoseconds it took."""

    def run(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in repeat(None, n):
            fn(arg)
        return time.perf_counter_ns() - start

    return run


async def _batches_async(run_async: Callable[[int], Any]) -> list[float]:
    """_batches for an async run(n)."""
    n = 1000
    elapsed = await run_async(n)
    while elapsed < 20_000_000:
        n *= 10
        elapsed = await run_async(n)
    n = max(1000, int(n * BATCH_SECONDS * 1e9 / elapsed))
    gc.collect()
    return [await run_async(n) / n for _ in range(BATCHES)]


def verify_repeat(cls: Any, iss: Any, token: str) -> dict[str, Any]:
    """Nanoseconds per call of the same token again and again, as the cached get: a loop of about
    BATCH_SECONDS, the median of BATCHES. (The peers verify the signature every time.)"""
    impl = cls(iss)
    verify = impl.verify
    if cls.mode == "async":

        async def measure() -> list[float]:
            _verified(await verify(token))

            async def run_async(n: int) -> int:
                start = time.perf_counter_ns()
                for _ in repeat(None, n):
                    await verify(token)
                return time.perf_counter_ns() - start

            return await _batches_async(run_async)

        per_call = asyncio.run(measure())
    else:
        _verified(verify(token))
        per_call = _batches(_timed_call_loop(verify, token))
    return {"ns": statistics.median(per_call), "batches_ns": per_call}


def unknown_kid_storm(cls: Any, iss: Any, mock: Mock, tokens: list[str]) -> dict[str, Any]:
    """A fresh verifier gets len(tokens) tokens each with its own unknown kid (signed by a key no JWKS has):
    asyncio.gather for an async verifier, one after the other for a sync one. The JWKS requests the issuer
    saw (counters reset before), how many tokens were rejected (all should be), and the wall time."""
    mock.reset()
    impl = cls(iss)
    verify = impl.verify
    start = time.perf_counter()
    outcomes: list[Any]
    if cls.mode == "async":

        async def storm() -> list[Any]:
            return await asyncio.gather(*(verify(t) for t in tokens), return_exceptions=True)

        outcomes = asyncio.run(storm())
    else:
        outcomes = []
        for token in tokens:
            try:
                outcomes.append(verify(token))
            except Exception as e:
                outcomes.append(e)
    wall = time.perf_counter() - start
    time.sleep(0.05)  # a request still in flight reaches the counters
    stats = mock._call("GET", "/mock/stats")
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    kinds: dict[str, int] = {}
    for e in errors:
        kinds[type(e).__name__] = kinds.get(type(e).__name__, 0) + 1
    return {
        "tokens": len(tokens),
        "jwks_requests": int(stats["jwks_requests"]),
        "metadata_requests": int(stats.get("metadata_requests", 0)),
        "accepted": len(outcomes) - len(errors),
        "rejected": len(errors),
        "rejections": kinds,
        "wall_ms": wall * 1e3,
        "concurrent": cls.mode == "async",
        "error_sample": _error(errors[0]) if errors else None,
    }


def verify_breakdown(iss: Any, token: str) -> dict[str, Any]:
    """Where the time of m2m-auth's repeated-token verify goes, in this process (ns per call, the median of
    BATCHES batches each, the parts taking turns): verify(token); a native no-op (the Verifier's `realm`
    getter: a pyo3 call that takes a read lock and returns None); a native getter that makes a str
    (`claims.issuer`); SHA-256 of the token's bytes with hashlib (OpenSSL; the core hashes with aws-lc), and
    of 20 copies of them, which tells the hashing of the bytes alone; a Python method returning an attribute
    (the call floor)."""

    import hashlib

    from m2m_auth import Verifier

    v = Verifier(issuer=iss.issuer, audience=iss.audience)
    claims = v.verify(token)
    data = token.encode()
    sha256 = hashlib.sha256

    def realm_loop(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in repeat(None, n):
            v.realm  # noqa: B018
        return time.perf_counter_ns() - start

    def issuer_loop(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in repeat(None, n):
            claims.issuer  # noqa: B018
        return time.perf_counter_ns() - start

    def hash_loop(b: bytes) -> Callable[[int], int]:
        def run(n: int) -> int:
            start = time.perf_counter_ns()
            for _ in repeat(None, n):
                sha256(b).digest()
            return time.perf_counter_ns() - start

        return run

    class Floor:
        def __init__(self) -> None:
            self._x = "x"

        def get(self, _token: str) -> str:
            return self._x

    parts = {
        "verify_repeat": _timed_call_loop(v.verify, token),
        "native_noop_realm_getter": realm_loop,
        "native_str_getter_claims_issuer": issuer_loop,
        "sha256_token_hashlib": hash_loop(data),
        "sha256_token_x20_hashlib": hash_loop(data * 20),
        "python_method_floor": _timed_call_loop(Floor().get, token),
    }
    out: dict[str, Any] = {"token_bytes": len(data)}
    for name, batches in _interleaved(parts).items():
        out[name] = {"ns": statistics.median(batches), "batches_ns": batches}
    # The hashing of the token's bytes alone: what 19 more copies of them add, ÷ 19.
    x1, x20 = out["sha256_token_hashlib"]["ns"], out["sha256_token_x20_hashlib"]["ns"]
    out["sha256_of_token_bytes_ns"] = (x20 - x1) / 19
    return out


def _interleaved(parts: dict[str, Callable[[int], int]]) -> dict[str, list[float]]:
    """BATCHES batches of each part (each calibrated to about BATCH_SECONDS), in rounds of one batch of every
    part, the order turned by one each round: a shared machine's drift over the seconds this takes falls on
    every part alike, so that the parts compare (as in cached_get_vs_memory)."""
    sizes = {name: _calibrate(run) for name, run in parts.items()}
    gc.collect()
    out: dict[str, list[float]] = {name: [] for name in parts}
    names = list(parts)
    for b in range(BATCHES):
        for name in names[b % len(names) :] + names[: b % len(names)]:
            out[name].append(parts[name](sizes[name]) / sizes[name])
    return out
