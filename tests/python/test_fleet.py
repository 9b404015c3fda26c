"""A fleet on one Redis: Python and Node processes (tests/fleet/worker.py and worker.js) share one token,
one request per rotation; a cold fleet sends one request; Redis killed mid-run is no caller's error; a lock
owner killed while its request hangs is taken over. Real processes, a real redis-server, the mock server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from m2m_auth.testing import MockAuthServer, RedisServer

FLEET = Path(__file__).resolve().parent.parent / "fleet"


@pytest.fixture()
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


class Process:
    def __init__(self, language: str, config: dict[str, Any]) -> None:
        worker = FLEET / ("worker.py" if language == "python" else "worker.js")
        program = sys.executable if language == "python" else "node"
        self.language = language
        self.start_at = config["start_at"]
        self.popen = subprocess.Popen(
            [program, str(worker), json.dumps(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self) -> None:
        """Until the worker has built its client."""
        line = self.popen.stderr.readline() if self.popen.stderr else ""
        assert line.strip() == "ready", f"{self.language} worker did not start: {line}"

    def result(self, timeout: float = 60) -> dict[str, Any]:
        out, err = self.popen.communicate(timeout=timeout)
        assert self.popen.returncode == 0, f"{self.language} worker failed ({self.popen.returncode}): {err}"
        summary: dict[str, Any] = json.loads(out)
        return summary

    def kill(self) -> None:
        """SIGKILL, then its pipes drained and closed."""
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.communicate()


def fleet(
    server: MockAuthServer,
    redis: RedisServer,
    *,
    python: int,
    node: int,
    callers: int,
    seconds: float,
    options: dict[str, Any] | None = None,
    lead: float = 3.0,
) -> list[Process]:
    """Starts the processes; their callers begin together, `lead` seconds from now. Each Redis operation may
    take up to 2 s: eight processes starting on two cores are slow, and the tests are about the single flight,
    not about the cache timeout."""
    start_at = time.time() + lead
    config = {
        "token_url": server.token_url,
        "cache_url": redis.url,
        "callers": callers,
        "start_at": start_at,
        "seconds": seconds,
        "options": {"cache_timeout": 2.0, **(options or {})},
    }
    processes = [Process("python", config) for _ in range(python)]
    processes += [Process("node", config) for _ in range(node)]
    try:
        for p in processes:
            p.wait_ready()
            p.start_at = start_at
    except BaseException:
        # None left running, no pipe left open, whatever went wrong.
        for p in processes:
            p.kill()
        raise
    assert time.time() < start_at, "the fleet took longer to start than its lead"
    return processes


def summaries(processes: list[Process]) -> list[dict[str, Any]]:
    """Every process's summary; whatever fails, none is left running with open pipes."""
    try:
        return [p.result() for p in processes]
    finally:
        for p in processes:
            if p.popen.returncode is None:
                p.kill()


def no_errors_no_expired(results: list[dict[str, Any]]) -> None:
    for r in results:
        assert r["errors"] == [], r["errors"]
        assert r["expired"] == 0, f"{r['expired']} expired tokens handed out, e.g. {r.get('late')}"
        assert r["calls"] > 0


def test_a_fleet_of_python_and_node_processes_sends_one_request_per_rotation(redis: RedisServer) -> None:
    with MockAuthServer() as server:
        server.set_token_lifetime(2)
        results = summaries(fleet(server, redis, python=4, node=4, callers=4, seconds=10))
        no_errors_no_expired(results)
        requests = server.token_requests()
        issued = set().union(*(r["tokens"] for r in results))
        # Every token served came from one request, every process was served (nearly) every one of them, and
        # no process fetched its own.
        assert requests <= len(issued) + 1, f"{requests} requests for {len(issued)} tokens"
        for r in results:
            assert len(r["tokens"]) + 1 >= len(issued), f"a process saw {len(r['tokens'])} of {len(issued)}"
        assert sum(r["stats"]["fetches"] for r in results) == requests
        # A 2-second token (the mock floors exp to whole seconds: at least 1 s) is refreshed after 80% of its
        # life: over 10 s at most 10 / 0.8 + 1 rotations, and one more request at most. Each process on its
        # own would make as many again.
        assert requests <= 10 / 0.8 + 2, f"{requests} token requests in 10 s"


def test_a_cold_fleet_of_8_processes_with_64_callers_each_sends_one_token_request(redis: RedisServer) -> None:
    with MockAuthServer() as server:
        results = summaries(fleet(server, redis, python=4, node=4, callers=64, seconds=0))
        no_errors_no_expired(results)
        assert server.token_requests() == 1
        assert len(set().union(*(r["tokens"] for r in results))) == 1
        assert sum(r["stats"]["shared_hits"] for r in results) == 7


def test_redis_killed_mid_run_is_no_caller_s_error_and_sharing_resumes(redis: RedisServer) -> None:
    with MockAuthServer() as server:
        server.set_token_lifetime(2)
        processes = fleet(server, redis, python=4, node=4, callers=4, seconds=10)
        start = processes[0].start_at
        time.sleep(max(0.0, start + 2.5 - time.time()))
        redis.stop()
        time.sleep(2.5)
        redis.restart()
        time.sleep(1.5)
        back = server.token_requests()
        time.sleep(max(0.0, start + 10 - time.time()))
        results = summaries(processes)
        no_errors_no_expired(results)
        assert sum(r["stats"]["shared_errors"] for r in results) > 0, "the outage was noticed"
        # Once Redis is back, one request per rotation again: over the last ~3.5 s, at most 3.5 / 0.8 + 1
        # rotations and one more request (each process alone would make 8 times as many).
        after = server.token_requests() - back
        assert after <= 6, f"{after} token requests after Redis came back"


def test_the_lock_owner_killed_while_its_request_hangs_is_taken_over(redis: RedisServer) -> None:
    with MockAuthServer() as server:
        options = {"cache_lock_ttl": 1.0, "retry_deadline": 8.0, "cache_timeout": 2.0}
        # The owner's request hangs far longer than the test lasts: only a takeover gets the fleet a token.
        server.push_faults([{"delay_ms": 30000}])
        owner_config = {
            "token_url": server.token_url,
            "cache_url": redis.url,
            "callers": 1,
            "start_at": time.time(),
            "seconds": 0,
            "options": options,
        }
        owner = Process("python", owner_config)
        owner.wait_ready()
        deadline = time.time() + 10
        while server.token_requests() == 0:
            assert time.time() < deadline, "the owner never asked for a token"
            time.sleep(0.02)
        # The owner holds the lock and waits for its answer; the others find the lock held and wait.
        others = fleet(server, redis, python=3, node=4, callers=8, seconds=0, options=options, lead=1.5)
        assert server.token_requests() == 1, "the others started while the owner's request hung"
        time.sleep(1.0)
        owner.kill()
        results = summaries(others)
        no_errors_no_expired(results)
        assert server.token_requests() == 2, "one process took over after the owner died"
        waits = [r["max_wait"] for r in results]
        assert max(waits) < 8.0, f"a caller waited past its deadline: {waits}"
        assert sum(r["stats"]["lock_waits"] for r in results) >= 1
