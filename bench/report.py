"""Turns the Python and Node measurements into bench/results.json, results.md (tables), results.png (chart).

    python report.py --python .build/python.json --node .build/node.json --out-dir . \\
        --phases setup=SECONDS,python=SECONDS,node=SECONDS --latency-ms 20
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless
import matplotlib.pyplot as plt  # noqa: E402

M2M = {"m2m-auth", "m2m-auth-async", "m2m-auth-redis"}
# Fleet: m2m-auth with Redis sends about 1 token request per rotation; 4 in 3 leaves room for one more (a
# background refresh that started just before the end, whose token nobody received).
FLEET_TARGET = 4 / 3 + 0.005
# Cached get with a Redis cache configured: within this factor of the memory cache's.
REDIS_CACHED_GET_TARGET = 1.1
LANGS = (("python", "Python"), ("node", "Node"))
# Verification: a repeated token (answered from the verifier's cache) under this many ns per call.
VERIFY_REPEAT_TARGET_NS = 1000
# The verifier call of each language whose numbers the targets are about, and the other one's.
VERIFY_CALLS = {
    "python": {"m2m-auth": "verify()", "m2m-auth-async": "await verify_async()"},
    "node": {"m2m-auth": "await verify()"},
}
VERIFY_METRICS = ("verify_new", "verify_repeat")


# ------------------------------------------------------------------------------------------------ machine


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    os_name = platform.system()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    try:
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rustc = None
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1) if mem else None,
        "os": f"{os_name} (kernel {platform.release()}, {platform.machine()})",
        "rustc": rustc,
    }


# ----------------------------------------------------------------------------------------------- analysis


def ok(metric: Any) -> bool:
    return isinstance(metric, dict) and "error" not in metric


def analyse(lang: dict[str, Any]) -> None:
    """Adds the ratios of each cached get to the floor (of the same kind: sync or async) and to the fastest
    peer (not m2m-auth, not a floor)."""
    impls = lang["impls"]
    floors = {i["mode"]: i["cached_get"]["ns"] for i in impls if i["floor"] and ok(i["cached_get"])}
    peers = [i for i in impls if not i["floor"] and i["name"] not in M2M and ok(i["cached_get"])]
    fastest = min(peers, key=lambda i: i["cached_get"]["ns"]) if peers else None
    lang["fastest_peer"] = fastest["name"] if fastest else None
    for i in impls:
        cg = i["cached_get"]
        if not ok(cg):
            continue
        floor = floors.get(i["mode"]) or floors.get("sync")
        cg["x_floor"] = cg["ns"] / floor if floor else None
        cg["x_fastest_peer"] = cg["ns"] / fastest["cached_get"]["ns"] if fastest else None
    analyse_verify(lang.get("verify"))


def analyse_verify(verify: dict[str, Any] | None) -> None:
    """Adds, for a new and a repeated token, each verifier's ratio to the fastest peer (not m2m-auth)."""
    if not verify:
        return
    verify["fastest_peer"] = {}
    for metric in VERIFY_METRICS:
        peers = [i for i in verify["impls"] if i["name"] not in M2M and ok(i.get(metric))]
        fastest = min(peers, key=lambda i: i[metric]["ns"]) if peers else None
        verify["fastest_peer"][metric] = fastest["name"] if fastest else None
        for i in verify["impls"]:
            if ok(i.get(metric)):
                i[metric]["x_fastest_peer"] = i[metric]["ns"] / fastest[metric]["ns"] if fastest else None


def impl(lang: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((i for i in lang["impls"] if i["name"] == name), None)


def targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The issues' targets, each with what was measured and whether it is met."""
    rows: list[dict[str, Any]] = []

    def add(target: str, measured: str, met: bool | None) -> None:
        rows.append({"target": target, "measured": measured, "met": met})

    py, node = data.get("python"), data.get("node")
    # A partial run (BENCH_ONLY) has no client metrics: no targets of theirs.
    py_client = py if py and py.get("impls") else None
    node_client = node if node and node.get("impls") else None
    if py_client:
        m = impl(py, "m2m-auth")
        cg = m["cached_get"] if m else None
        peers = [i for i in py["impls"] if not i["floor"] and i["name"] not in M2M and ok(i["cached_get"])]
        if cg and ok(cg):
            best = min(peers, key=lambda i: i["cached_get"]["ns"]) if peers else None
            if best:
                add(
                    "Python get_token() cached: faster than every peer",
                    f"{cg['ns']:.0f} ns vs {best['name']} {best['cached_get']['ns']:.0f} ns (fastest peer)",
                    cg["ns"] < best["cached_get"]["ns"],
                )
            add("Python get_token() cached: ≤ 100 ns", f"{cg['ns']:.0f} ns", cg["ns"] <= 100)
            if cg.get("x_floor"):
                add(
                    "Python get_token() cached: within 4× of the floor",
                    f"{cg['x_floor']:.1f}×",
                    cg["x_floor"] <= 4,
                )
        else:
            add("Python get_token() cached", "failed", False)
    if node_client:
        m = impl(node, "m2m-auth")
        cg = m["cached_get"] if m else None
        if cg and ok(cg):
            best = node.get("fastest_peer")
            best_ns = impl(node, best)["cached_get"]["ns"] if best else None
            if best_ns:
                add(
                    "Node await getToken() cached: no slower than the fastest peer",
                    f"{cg['ns']:.0f} ns vs {best} {best_ns:.0f} ns",
                    cg["ns"] <= best_ns,
                )
            if cg.get("x_floor"):
                add(
                    "Node await getToken() cached: within 2× of the floor",
                    f"{cg['x_floor']:.1f}×",
                    cg["x_floor"] <= 2,
                )
        else:
            add("Node await getToken() cached", "failed", False)
    for lang_key, lang_name in LANGS:
        lang = data.get(lang_key)
        if not lang:
            continue
        for name in ("m2m-auth", "m2m-auth-async"):
            m = impl(lang, name)
            if not m:
                continue
            call = {"python": {"m2m-auth": "get_token()", "m2m-auth-async": "get_token_async()"}, "node": {}}
            who = f"{lang_name} {call[lang_key].get(name, 'getToken()')}"
            for n, herd in m.get("herd", {}).items():
                if ok(herd):
                    add(
                        f"Cold herd N={n}, {who}: exactly 1 token request",
                        f"{herd['token_requests']} request(s), {herd['ok']}/{n} callers got a token",
                        herd["token_requests"] == 1 and herd["ok"] == int(n),
                    )
                else:
                    add(f"Cold herd N={n}, {who}: exactly 1 token request", "failed", False)
            rot = m.get("rotation")
            if ok(rot):
                add(
                    f"Rotation, {who}: 0 callers waited on the network after the first token",
                    f"{rot['callers_waited']} of {rot['callers']} callers, {rot['slow_calls']} calls > "
                    f"{lang['settings']['slow_ms']:g} ms, max {rot['max_ms']:.1f} ms",
                    rot["callers_waited"] == 0,
                )
                per = rot["requests_per_rotation"]
                add(
                    f"Rotation, {who}: 1 token request per rotation",
                    f"{rot['token_requests']} requests / {rot['rotations']} rotations",
                    per is not None and abs(per - 1.0) < 1e-9,
                )
            elif rot is not None:
                add(f"Rotation, {who}", "failed", False)
        m = impl(lang, "m2m-auth")
        if m and ok(m.get("import")):
            add(f"{lang_name} import time < 50 ms", f"{m['import']['ms']:.1f} ms", m["import"]["ms"] < 50)
        shared_cache_targets(lang, lang_name, add)
        verify_targets(lang_key, lang, lang_name, add)
    return rows


def verify_targets(lang_key: str, lang: dict[str, Any], lang_name: str, add: Any) -> None:
    """The Verifier's targets: a new token no slower than the fastest peer, a repeated one under
    VERIFY_REPEAT_TARGET_NS (sync verify() in Python, await verify() in Node), and an unknown-kid storm
    costing one JWKS request (every m2m-auth verifier)."""
    verify = lang.get("verify")
    if not verify:
        return
    fastest = verify.get("fastest_peer") or {}
    for name, call in VERIFY_CALLS[lang_key].items():
        m = next((i for i in verify["impls"] if i["name"] == name), None)
        if not m:
            continue
        who = f"{lang_name} {call}"
        primary = name == "m2m-auth"
        if primary:
            new = m.get("verify_new")
            target = f"{who}, a token seen for the first time: no slower than the fastest peer"
            best = next((i for i in verify["impls"] if i["name"] == fastest.get("verify_new")), None)
            if ok(new) and best:
                add(
                    target,
                    f"{fmt_ns(new['ns'])} vs {best['name']} {fmt_ns(best['verify_new']['ns'])} per call",
                    new["ns"] <= best["verify_new"]["ns"],
                )
            elif not ok(new):
                add(target, "failed", False)
            rep = m.get("verify_repeat")
            target = f"{who}, a repeated token: < {VERIFY_REPEAT_TARGET_NS / 1000:g} µs"
            if ok(rep):
                best = next((i for i in verify["impls"] if i["name"] == fastest.get("verify_repeat")), None)
                peer = f" (fastest peer {best['name']} {fmt_ns(best['verify_repeat']['ns'])})" if best else ""
                add(target, f"{fmt_ns(rep['ns'])}{peer}", rep["ns"] < VERIFY_REPEAT_TARGET_NS)
            else:
                add(target, "failed", False)
        storm = m.get("unknown_kid_storm")
        if storm is None:
            continue
        target = f"{who}: {verify['settings']['storm_tokens']} tokens with unknown kids cost 1 JWKS request"
        if ok(storm):
            how = "all at once" if storm["concurrent"] else "one after the other"
            add(
                target,
                f"{storm['jwks_requests']} JWKS request(s), "
                f"{storm['rejected']}/{storm['tokens']} rejected ({how})",
                storm["jwks_requests"] == 1 and storm["rejected"] == storm["tokens"],
            )
        else:
            add(target, "failed", False)


def shared_cache_targets(lang: dict[str, Any], lang_name: str, add: Any) -> None:
    """The shared cache's targets: about 1 token request per rotation for a fleet with Redis (peers: N), and
    a cached get with Redis configured within REDIS_CACHED_GET_TARGET of the memory cache's."""
    redis = next((f for f in lang.get("fleet") or [] if f["name"] == "m2m-auth-redis"), None)
    for n, run in (redis or {}).get("runs", {}).items():
        target = (
            f"Fleet of {n} {lang_name} processes, m2m-auth with Redis: 1 token request per rotation (≤ 1.34)"
        )
        if ok(run):
            per = run["requests_per_rotation"]
            add(
                target,
                f"{run['token_requests']} requests / {run['rotations']:g} rotations = "
                + ("—" if per is None else f"{per:.2f}")
                + f"; {run['expired']} expired / {run['errors']} errors",
                per is not None and per <= FLEET_TARGET and run["expired"] + run["errors"] == 0,
            )
        else:
            add(target, "failed", False)
    cg = lang.get("redis_cached_get")
    if cg is not None:
        target = (
            f"{lang_name} cached get with a Redis cache configured: "
            f"within {REDIS_CACHED_GET_TARGET:g}× of the memory cache"
        )
        if ok(cg):
            add(
                target,
                f"{cg['ns']:.0f} ns vs {cg['memory_ns']:.0f} ns = {cg['x_memory']:.2f}× "
                "(alternating batches)",
                cg["x_memory"] <= REDIS_CACHED_GET_TARGET,
            )
        else:
            add(target, "failed", False)


# ------------------------------------------------------------------------------------------------ tables


def fmt_ns(ns: float) -> str:
    return f"{ns:,.0f} ns" if ns < 10_000 else f"{ns / 1000:,.1f} µs"


def fmt_x(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.1f}×" if x >= 0.1 else f"{x:.2g}×"


def fmt_ms(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def cell_error(metric: Any) -> str:
    return f"failed: {metric.get('error', '?')[:60]}" if isinstance(metric, dict) else "—"


def herd_cell(h: Any) -> str:
    if not ok(h):
        return cell_error(h)
    if h["timed_out"]:
        text = f"≥{h['token_requests']} req, >{fmt_ms(h['wall_ms'])} ({h['timed_out']} still waiting)"
    else:
        text = f"{h['token_requests']} req, {fmt_ms(h['wall_ms'])}"
    if h["errors"]:
        text += f", {h['errors']} errors"
    return text


def table(lang: dict[str, Any]) -> list[str]:
    sizes = [str(n) for n in lang["settings"]["herd_sizes"]]
    slow = f"{lang['settings']['slow_ms']:g}"
    head = (
        ["Implementation", "Cached get", "× floor", "× fastest peer"]
        + [f"Cold herd N={n}" for n in sizes]
        + ["Rotation: max call", f"calls > {slow} ms (callers)", "requests / rotation", "expired / errors"]
        + ["Import", "RSS per client"]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for i in lang["impls"]:
        cg = i["cached_get"]
        name = f"**{i['label']}**" if i["name"] in M2M else i["label"]
        row = [name]
        if ok(cg):
            row += [
                fmt_ns(cg["ns"]),
                fmt_x(cg.get("x_floor")),
                "—" if i["floor"] else fmt_x(cg.get("x_fastest_peer")),
            ]
        else:
            row += [cell_error(cg), "—", "—"]
        row += [herd_cell(i["herd"].get(n)) if "herd" in i else "—" for n in sizes]
        rot = i.get("rotation")
        if ok(rot):
            per = rot["requests_per_rotation"]
            row += [
                fmt_ms(rot["max_ms"]),
                f"{rot['slow_calls']} ({rot['callers_waited']} of {rot['callers']})",
                f"{per:.1f} ({rot['token_requests']}/{rot['rotations']})" if per is not None else "—",
                f"{rot['expired']} / {rot['errors']}"
                + (f" ({rot['callers_failed']} callers)" if rot["callers_failed"] else ""),
            ]
        else:
            row += [cell_error(rot)] + ["—"] * 3
        imp, rss = i.get("import"), i.get("rss")
        row.append(f"{imp['ms']:.1f} ms" if ok(imp) else cell_error(imp))
        row.append(f"{rss['kib'] / 1024:.1f} MiB" if ok(rss) else cell_error(rss))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def fleet_cell(run: Any) -> str:
    if not ok(run):
        return cell_error(run)
    per = run["requests_per_rotation"]
    text = "—" if per is None else f"{per:.1f}"
    text += f" ({run['token_requests']} req / {run['rotations']:g} rot)"
    if run["expired"] or run["errors"]:
        text += f", {run['expired']} expired / {run['errors']} errors ({run['processes_failed']} processes)"
    return text


def fleet_table(lang: dict[str, Any]) -> list[str]:
    """Rows: implementations; columns: fleet sizes; value: token requests per rotation."""
    fleet = lang.get("fleet") or []
    if not fleet:
        return []
    s = lang["settings"]
    sizes = [str(n) for n in s["fleet_sizes"]]
    both = " / ".join(sizes)
    head = ["Implementation"] + [f"{n} processes: requests / rotation" for n in sizes]
    head += [f"requests / {s['rotation_lifetime_secs']} s lifetime ({both})", f"distinct tokens ({both})"]
    head += [f"{sizes[-1]} processes: first token, slowest process"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for f in fleet:
        name = f"**{f['label']}**" if f["name"] in M2M else f["label"]
        runs = [f["runs"].get(n) for n in sizes]
        row = [name] + [fleet_cell(r) for r in runs]
        row.append(" / ".join(f"{r['requests_per_lifetime']:.1f}" if ok(r) else "—" for r in runs))
        row.append(" / ".join(str(r["distinct_tokens"]) if ok(r) else "—" for r in runs))
        row.append(fmt_ms(runs[-1]["first_token_ms"]) if ok(runs[-1]) else "—")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def counter(stats: dict[str, Any], *names: str) -> int:
    """The first of `names` that `stats` has (Python's names or Node's), else 0."""
    return next((stats[k] for k in names if k in stats), 0)


def fleet_counters(lang: dict[str, Any]) -> list[str]:
    """m2m-auth with Redis: its own counters added up over the processes, which say why a fleet sent more
    than 1 request per rotation (shared-cache errors: Redis slower than cache_timeout, or down)."""
    redis = next((f for f in lang.get("fleet") or [] if f["name"] == "m2m-auth-redis"), None)
    if not redis:
        return []
    parts = []
    for n, run in redis["runs"].items():
        st = run.get("client_stats") if ok(run) else None
        if st:
            # Python's stats() has snake_case names, Node's camelCase.
            hits = counter(st, "shared_hits", "sharedHits")
            waits = counter(st, "lock_waits", "lockWaits")
            errors = counter(st, "shared_errors", "sharedErrors")
            parts.append(
                f"N={n}: {counter(st, 'fetches')} fetches, {hits} shared hits, {waits} lock waits, "
                f"{errors} shared-cache errors"
            )
    if not parts:
        return []
    return [
        "",
        "m2m-auth with Redis, its counters (`stats()`) added up over the processes: "
        + "; ".join(parts)
        + ".",
    ]


def shared_cache_section(key: str, lang: dict[str, Any]) -> list[str]:
    s = lang["settings"]
    if not lang.get("fleet") and lang.get("redis_cached_get") is None:
        return []
    who = "threads" if key == "python" else "async loops"
    out = [
        "",
        "### Shared cache: fleets of processes (Redis)",
        "",
        f"N fresh processes of one implementation begin together and call get() from {s['fleet_callers']} "
        f"{who} each ({s['fleet_pause_ms']:g} ms pause between calls) for {s['fleet_seconds']:g} s "
        f"(about {s['fleet_lifetimes']} lifetimes of {s['rotation_lifetime_secs']} s tokens), the cold start "
        "included. Requests / rotation = the token requests the endpoint saw ÷ the rotations of one process "
        "(its moves to a new token, the first included; the median over the processes): 1 when the fleet "
        "sends what one client alone would, N when every process fetches its own. Per lifetime = ÷ "
        f"{s['fleet_lifetimes']}: m2m-auth rotates about every second here, as the mock's `exp` is in whole "
        "seconds (iat rounded down) and m2m-auth takes the earlier of `exp` and `expires_in`, refreshing at "
        "80% of that.",
        "",
        *fleet_table(lang),
        *fleet_counters(lang),
    ]
    cg = lang.get("redis_cached_get")
    if cg is not None:
        call = "get_token()" if key == "python" else "await getToken()"
        out += [
            "",
            f"Cached get, {call} with a Redis cache configured: "
            + (
                f"{fmt_ns(cg['ns'])} vs {fmt_ns(cg['memory_ns'])} with the memory cache only "
                f"(**{cg['x_memory']:.2f}×**), in alternating batches of the same size."
                if ok(cg)
                else cell_error(cg)
            ),
        ]
    return out


def verify_table(verify: dict[str, Any]) -> list[str]:
    s = verify["settings"]
    head = [
        "Verifier",
        "New token, per call",
        "× fastest peer",
        "Repeated token, per call",
        "× fastest peer",
        f"{s['storm_tokens']} unknown kids: JWKS requests",
        "rejected",
        "wall time",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for i in verify["impls"]:
        row = [f"**{i['label']}**" if i["name"] in M2M else i["label"]]
        for metric in VERIFY_METRICS:
            m = i.get(metric)
            if ok(m):
                row += [fmt_ns(m["ns"]), fmt_x(m.get("x_fastest_peer"))]
            else:
                row += [cell_error(m), "—"]
        st = i.get("unknown_kid_storm")
        if ok(st):
            how = "all at once" if st["concurrent"] else "one after the other"
            row += [
                f"{st['jwks_requests']}",
                f"{st['rejected']} of {st['tokens']}"
                + (f" ({st['accepted']} accepted!)" if st["accepted"] else ""),
                f"{fmt_ms(st['wall_ms'])} ({how})",
            ]
        else:
            row += [cell_error(st), "—", "—"]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def breakdown_text(key: str, b: Any) -> list[str]:
    """Where m2m-auth's time for a repeated token goes, measured in the same process."""
    if b is None:
        return []
    if not ok(b):
        return ["", f"Breakdown of a repeated verify: {cell_error(b)}"]
    n = b["token_bytes"]
    hashing = b["sha256_of_token_bytes_ns"]
    hashed = (
        f"of which hashing the bytes {fmt_ns(hashing)}, from the time for 20 copies of them"
        if hashing > 0
        else "the bytes' own hashing lost in noise"
    )
    if key == "python":
        parts = [
            f"`verifier.verify(token)` {fmt_ns(b['verify_repeat']['ns'])}",
            f"a native no-op (`verifier.realm`, a pyo3 getter taking a read lock) "
            f"{fmt_ns(b['native_noop_realm_getter']['ns'])}",
            "a native getter making a str (`claims.issuer`) "
            f"{fmt_ns(b['native_str_getter_claims_issuer']['ns'])}",
            f"`hashlib.sha256(bytes).digest()` of the {n}-byte token "
            f"{fmt_ns(b['sha256_token_hashlib']['ns'])} "
            f"({hashed})",
            f"a Python method returning an attribute {fmt_ns(b['python_method_floor']['ns'])}",
        ]
    else:
        parts = [
            f"`await verifier.verify(token)` {fmt_ns(b['verify_repeat']['ns'])}",
            f"of which the addon's `NativeVerifier.verifyKnown(token)` (the lookup, and the claims made a JS "
            f"object) {fmt_ns(b['native_verify_known_sync']['ns'])} and verifier.js's `claimsOf` "
            f"{fmt_ns(b['claims_of_js']['ns'])}",
            f"a native call taking the token and returning nothing (`NativeVerifier.certificateDer(token)`) "
            f"{fmt_ns(b['native_string_in_certificate_der']['ns'])}",
            f"`bearerToken('Bearer ' + token)`, a native call taking the token and returning it "
            f"{fmt_ns(b['native_bearer_token_sync']['ns'])} "
            f"({fmt_ns(b['native_bearer_token_awaited']['ns'])} awaited)",
            f"`createHash('sha256').update(bytes).digest()` of the {n}-byte token "
            f"{fmt_ns(b['sha256_token_node_crypto']['ns'])} ({hashed})",
            f"an awaited async function {fmt_ns(b['awaited_async_floor']['ns'])}",
        ]
    return [
        "",
        "Where a repeated verify's time goes, in the same process (median of batches, the parts taking "
        "turns): " + "; ".join(parts) + ".",
    ]


def verify_section(key: str, lang: dict[str, Any]) -> list[str]:
    verify = lang.get("verify")
    if not verify:
        return []
    s = verify["settings"]
    how = (
        "sync verifiers one token after the other, `verify_async` with `asyncio.gather`"
        if key == "python"
        else "`Promise.all`"
    )
    return [
        "",
        "### Verification (the receiving side)",
        "",
        f"The mock is the issuer (ES256 JWTs of {verify['token_bytes']} bytes, aud = the issuer). Every "
        "verifier checks the signature with a key of the issuer's JWKS, ES256, iss, aud, exp, nbf/iat with "
        f"{s['leeway_secs']:g} s leeway. New token: {s['new_batches']} batches of {s['new_batch_tokens']} "
        f"tokens never seen before, the same for every verifier, after {s['warmup_tokens']} other tokens "
        "(the JWKS fetched); the median batch's time per token. Repeated token: the same token in a loop, "
        f"median of {s['repeat_batches']} batches of ~{s['repeat_batch_seconds']:g} s (the peers verify the "
        f"signature every time). Unknown kids: {s['storm_tokens']} tokens, each with its own kid that no "
        f"JWKS has, on a fresh verifier ({how}); the JWKS requests the issuer saw.",
        "",
        *verify_table(verify),
        *breakdown_text(key, verify.get("breakdown")),
    ]


def markdown(data: dict[str, Any]) -> str:
    m, run = data["machine"], data["run"]
    runtimes = ", ".join(data[k]["runtime"] for k, _ in LANGS if k in data)
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in run["phases"].items())
    out = [
        "# m2m-auth benchmark results",
        "",
        f"- **Date**: {data['date']}",
        f"- **Machine**: {m['cpu']}, {m['cores']} cores"
        + (f", {m['memory_gib']} GiB" if m["memory_gib"] else "")
        + f"; {m['os']}",
        f"- **Runtimes**: {runtimes}; {m['rustc'] or 'rustc ?'} (release builds)",
        f"- **Token endpoint**: `m2m-auth mock` (release) on 127.0.0.1, {data['latency_ms']} ms per token "
        "request, HTTP/1.1 keep-alive, Nagle off; ES256 JWTs",
        f"- **Run time** of `make bench`: {run['total_seconds'] / 60:.1f} min ({phases})",
        "",
        "How each number is measured: [README.md](README.md). Bold rows are m2m-auth; “× floor” compares "
        "with the floor of the same kind (sync method or awaited async function), “× fastest peer” with "
        "the fastest non-m2m-auth implementation of that language in this run.",
        "",
        "## Targets",
        "",
        "| Target | Measured | Met |",
        "|---|---|---|",
    ]
    for t in data["targets"]:
        met = "met" if t["met"] else "**not met**"
        out.append(f"| {t['target']} | {t['measured']} | {met} |")
    for key, name in LANGS:
        lang = data.get(key)
        if not lang:
            continue
        s = lang["settings"]
        size = lang["package_bytes"]
        out += [
            "",
            f"## {name}",
        ]
        if lang["impls"]:
            out += [
                "",
                f"Cached get: median of {s['batches']} batches of ~{s['batch_seconds']} s. Cold herd: "
                + ("threads (sync) or asyncio tasks (async)" if key == "python" else "Promises")
                + f", {s['herd_timeout_secs']:g} s limit. Rotation: {s['rotation_callers']} callers for "
                f"{s['rotation_rotations']}¼ lifetimes of {s['rotation_lifetime_secs']} s; expired = past "
                f"JWT exp + {s['exp_tolerance_secs']:g} s.",
                "",
                *table(lang),
                "",
                f"Package: `{lang['package_file']}` {size / 2**20:.1f} MiB."
                if size
                else "Package size: not measured.",
            ]
        out += [*shared_cache_section(key, lang), *verify_section(key, lang)]
    out += ["", "![Benchmark chart](results.png)", ""]
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------- chart


Bar = tuple[str, "float | None", str, str]  # label, value (None: failed), kind (m2m/floor/peer), text


def bars(ax: Any, values: list[Bar], title: str, unit: str, log: bool = True) -> None:
    colors = {"m2m": "#1f77b4", "floor": "#555555", "peer": "#b0b0b0"}
    if not values:
        ax.axis("off")
        return
    ax.barh([v[0] for v in values], [v[1] or 0 for v in values], color=[colors[v[2]] for v in values])
    if log:
        ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(unit)
    for y, (_, v, _, text) in enumerate(values):
        ax.text(v or 1, y, f" {text}", va="center", fontsize=8)
    ax.margins(x=0.3)


def kind(i: dict[str, Any]) -> str:
    return "m2m" if i["name"] in M2M else "floor" if i.get("floor") else "peer"


def num(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 else f"{v:.2g}"


def series(impls: list[dict[str, Any]], metric: str, field: str) -> list[Bar]:
    """One bar per implementation that has `metric`: its `field`."""
    out: list[Bar] = []
    for i in impls:
        if metric in i:
            m = i[metric]
            out.append(
                (i["name"], m[field], kind(i), num(m[field]))
                if ok(m)
                else (i["name"], None, kind(i), "failed")
            )
    return out


def herd_series(impls: list[dict[str, Any]]) -> list[Bar]:
    out: list[Bar] = []
    for i in impls:
        for n, h in i.get("herd", {}).items():
            label = f"{i['name']} N={n}"
            if not ok(h):
                out.append((label, None, kind(i), "failed"))
            else:
                text = f"≥{h['token_requests']}, timed out" if h["timed_out"] else str(h["token_requests"])
                out.append((label, h["token_requests"], kind(i), text))
    return out


def fleet_series(fleet: list[dict[str, Any]]) -> list[Bar]:
    out: list[Bar] = []
    for f in fleet:
        k = "m2m" if f["name"] in M2M else "peer"
        for n, run in f["runs"].items():
            label = f"{f['name']} N={n}"
            if ok(run):
                per = run["requests_per_rotation"]
                out.append((label, per, k, "—" if per is None else f"{per:.1f}"))
            else:
                out.append((label, None, k, "failed"))
    return out


def storm_series(impls: list[dict[str, Any]]) -> list[Bar]:
    out: list[Bar] = []
    for i in impls:
        st = i.get("unknown_kid_storm")
        if ok(st):
            out.append((i["name"], st["jwks_requests"], kind(i), str(st["jwks_requests"])))
        elif st is not None:
            out.append((i["name"], None, kind(i), "failed"))
    return out


def chart(data: dict[str, Any], path: Path) -> None:
    langs = [(k, n) for k, n in LANGS if k in data]
    # Per language: a row of the client's metrics (when measured) and a row of the Verifier's.
    rows = [(k, n, "client") for k, n in langs if data[k]["impls"]]
    rows += [(k, n, "verify") for k, n in langs if data[k].get("verify")]
    rows.sort(key=lambda r: [k for k, _ in langs].index(r[0]))
    fig, axes = plt.subplots(max(1, len(rows)), 5, figsize=(25, 4.2 * max(1, len(rows))), squeeze=False)
    for row, (key, name, what) in enumerate(rows):
        if what == "verify":
            vimpls = data[key]["verify"]["impls"]
            bars(
                axes[row][0],
                series(vimpls, "verify_new", "ns"),
                f"{name}: verify a new token (lower is better)",
                "ns per call",
                log=False,  # all within a few times of each other
            )
            bars(
                axes[row][1],
                series(vimpls, "verify_repeat", "ns"),
                f"{name}: verify a repeated token (lower is better)",
                "ns per call",
            )
            tokens = data[key]["verify"]["settings"]["storm_tokens"]
            bars(
                axes[row][2],
                storm_series(vimpls),
                f"{name}: {tokens} unknown kids: JWKS requests",
                "JWKS requests",
            )
            for ax in axes[row][3:]:
                ax.axis("off")
            continue
        impls = data[key]["impls"]
        bars(
            axes[row][0],
            series(impls, "cached_get", "ns"),
            f"{name}: cached get (lower is better)",
            "ns per call",
        )
        bars(
            axes[row][1],
            herd_series(impls),
            f"{name}: cold herd: token requests (1 is ideal)",
            "token requests",
        )
        bars(axes[row][2], series(impls, "rotation", "max_ms"), f"{name}: rotation: slowest call", "ms")
        bars(axes[row][3], series(impls, "import", "ms"), f"{name}: import time", "ms")
        bars(
            axes[row][4],
            fleet_series(data[key].get("fleet") or []),
            f"{name}: fleet: token requests per rotation",
            "token requests / rotation",
        )
    m = data["machine"]
    fig.suptitle(f"m2m-auth vs peers, {data['date']} — {m['cpu']}, {m['cores']} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# -------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", type=Path)
    parser.add_argument("--node", type=Path)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--phases", default="", help="name=seconds,… (the run so far)")
    parser.add_argument("--latency-ms", type=int, required=True)
    args = parser.parse_args()

    phases = {k: float(v) for k, v in (p.split("=") for p in args.phases.split(",") if p)}
    data: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "run": {"total_seconds": sum(phases.values()), "phases": phases},
        "latency_ms": args.latency_ms,
    }
    for key, path in (("python", args.python), ("node", args.node)):
        if path and path.exists():
            data[key] = json.loads(path.read_text())
            analyse(data[key])
    data["targets"] = targets(data)

    out = args.out_dir
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / "results.md").write_text(markdown(data))
    chart(data, out / "results.png")
    print(f"wrote {out / 'results.json'}, {out / 'results.md'}, {out / 'results.png'}")


if __name__ == "__main__":
    main()
