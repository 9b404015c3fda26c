"""The token lifecycle from Python (issue 3): a client survives os.fork() and multiprocessing, a Rust panic
is an InternalError and never takes the process down, tokens rotate under load without anyone getting an
expired one, the client's work shows up in `logging` without secrets, and tokens are refreshed ahead of
expiry in the background."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from helpers import wait_for
from m2m_auth import InternalError, M2MAuthError, OAuthError, TokenClient
from m2m_auth.testing import MockAuthServer, RedisServer

CLIENT_ID = "demo-client"
SECRET = "demo-secret"
WRONG_SECRET = "wrong-secret-Hq4Zt8"

ClientFactory = Callable[..., TokenClient]

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="this platform has no os.fork()")
# Python 3.12+ warns when a process with threads forks (the runtime's and the mock server's threads are
# running); the point of these tests is that m2m-auth copes with exactly that.
fork_warning = pytest.mark.filterwarnings(
    "ignore:This process .*is multi-threaded, use of fork\\(\\) may lead to deadlocks:DeprecationWarning"
)
CHILD_TIMEOUT = 30


def m2m_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "m2m_auth"]


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(getattr(r, "m2m_event", "")) for r in m2m_records(caplog)]


def assert_no_secret_in_logs(caplog: pytest.LogCaptureFixture, *needles: str) -> None:
    for record in m2m_records(caplog):
        for text in (record.getMessage(), repr(vars(record))):
            for needle in needles:
                assert needle not in text, f"a log record shows {needle[:12]}…: {text}"


# ---------------------------------------------------------------------------------------------------------
# Fork


def run_in_child(body: Callable[[], str]) -> tuple[int, str]:
    """Forks; the child runs `body` and reports its result through a pipe. Returns the child's exit code and
    what it reported. A child that hangs is killed (SIGALRM in the child, SIGKILL from here) and fails."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.close(read_end)
            signal.alarm(CHILD_TIMEOUT)
            report = body()
            os.write(write_end, report.encode())
            code = 0
        except BaseException:
            try:
                os.write(write_end, traceback.format_exc().encode())
            finally:
                code = 71
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        deadline = time.monotonic() + CHILD_TIMEOUT + 5
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail("the forked child hung")
            time.sleep(0.02)
        chunks = []
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
    finally:
        os.close(read_end)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode()


@needs_fork
@fork_warning
def test_a_client_used_before_fork_gets_tokens_in_the_child(
    server: MockAuthServer, make_client: ClientFactory
) -> None:
    client = make_client()
    parent_token = client.get_token()
    assert server.token_requests() == 1

    def child() -> str:
        # The same client object: drop what the parent cached, so that the child really asks the server.
        client.invalidate()
        token = client.get_token()
        assert client.get_token() == token

        async def other_scopes() -> str:
            return await client.get_token_async(scopes=["payments.write"])

        return f"{token}\n{asyncio.run(other_scopes())}"

    code, report = run_in_child(child)
    assert code == 0, report
    token, async_token = report.split("\n")
    assert token != parent_token
    assert server.verify_access_token(token)["sub"] == CLIENT_ID
    assert server.verify_access_token(async_token)["scope"] == "payments.write"
    assert server.token_requests() == 3
    # The parent's client is unharmed: its cache, and its runtime for new requests.
    assert client.get_token() is parent_token
    client.invalidate()
    assert client.get_token() not in (parent_token, token)
    assert server.token_requests() == 4


def test_a_verifier_used_before_fork_verifies_in_the_child(
    server: MockAuthServer, make_client: ClientFactory
) -> None:
    from m2m_auth import Claims, TokenInvalid, Verifier

    verifier = Verifier(issuer=server.issuer, audience=server.issuer)
    first = make_client().get_token()
    assert verifier.verify(first).client_id == CLIENT_ID
    second = make_client(scopes=["payments.write"]).get_token()

    def child() -> str:
        # A token the parent checked, and one it never saw: the child fetches the keys on its own runtime.
        try:
            verifier.verify(second[:-4] + "AAAA")
        except TokenInvalid:
            pass

        async def verify_async() -> Claims:
            return await verifier.verify_async(second)

        claims = asyncio.run(verify_async())
        return f"{verifier.verify(first).client_id} {' '.join(claims.scopes)}"

    code, report = run_in_child(child)
    assert code == 0, report
    assert report == f"{CLIENT_ID} payments.write"
    assert verifier.verify(second).scopes == ["payments.write"]


@needs_fork
@fork_warning
def test_a_fork_while_a_fetch_is_in_flight_does_not_hang_the_child(
    server: MockAuthServer, make_client: ClientFactory
) -> None:
    client = make_client()
    client.get_token()
    client.invalidate()
    # The parent's next request is slow; the child is forked while it is in flight.
    server.push_faults([{"delay_ms": 1000}])
    parent_result: list[str] = []
    worker = threading.Thread(target=lambda: parent_result.append(client.get_token()))
    worker.start()
    wait_for(lambda: server.token_requests() == 2, "the parent's request to reach the server")

    def child() -> str:
        # The fetch in flight belongs to the parent's runtime, whose threads do not exist here: the child must
        # not wait for it.
        return client.get_token()

    code, report = run_in_child(child)
    worker.join(timeout=CHILD_TIMEOUT)
    assert code == 0, report
    assert server.verify_access_token(report)["sub"] == CLIENT_ID
    assert parent_result and server.verify_access_token(parent_result[0])["sub"] == CLIENT_ID
    assert report != parent_result[0]
    assert server.token_requests() == 3


@needs_fork
@fork_warning
def test_a_client_first_used_in_the_child_works(server: MockAuthServer, make_client: ClientFactory) -> None:
    client = make_client(scopes=["payments.read"])

    def child() -> str:
        return client.get_token()

    code, report = run_in_child(child)
    assert code == 0, report
    assert server.verify_access_token(report)["scope"] == "payments.read"
    assert server.token_requests() == 1


# multiprocessing pickles the function by name; the forked workers inherit this module and its client.
_POOL: dict[str, TokenClient] = {}


def _pool_worker(i: int) -> str:
    client = _POOL["client"]
    try:
        client.invalidate()
        return client.get_token()
    except BaseException as e:  # an exception with native attributes may not survive pickling
        return f"error in task {i}: {e!r}"


@needs_fork
@fork_warning
def test_a_multiprocessing_fork_pool_uses_the_parents_client(
    server: MockAuthServer, make_client: ClientFactory
) -> None:
    client = make_client()
    parent_token = client.get_token()
    _POOL["client"] = client
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(processes=2)
    try:
        tokens = pool.map_async(_pool_worker, range(4)).get(timeout=CHILD_TIMEOUT)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
        _POOL.clear()
    assert len(tokens) == 4
    for token in tokens:
        assert not token.startswith("error"), token
        assert server.verify_access_token(token)["sub"] == CLIENT_ID
    assert len(set(tokens)) == 4
    assert parent_token not in tokens
    assert server.token_requests() == 5
    assert client.get_token() is parent_token


# ---------------------------------------------------------------------------------------------------------
# A panic in the core


def test_a_panic_in_get_token_is_an_internal_error_and_the_process_lives_on(
    server: MockAuthServer, make_client: ClientFactory
) -> None:
    client = make_client(_panic_on_fetch=True)
    for call in (client.get_token, client.fetch_token, lambda: client.get_token(scopes=["payments.write"])):
        with pytest.raises(InternalError) as info:
            call()
        e = info.value
        assert isinstance(e, M2MAuthError)
        assert e.code == "ERR_INTERNAL"
        assert e.status is None
        assert "panic" in str(e)
        assert SECRET not in str(e)
    # Every concurrent waiter gets the error; none hangs.
    barrier = threading.Barrier(20)

    def one(_: int) -> BaseException | str:
        barrier.wait()
        try:
            return client.get_token()
        except BaseException as e:
            return e

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert all(isinstance(r, InternalError) for r in results), results
    # The panic happened before any request; the runtime still serves other clients.
    assert server.token_requests() == 0
    token = make_client().get_token()
    assert server.verify_access_token(token)["sub"] == CLIENT_ID


def test_a_panic_in_get_token_async_is_an_internal_error_and_the_loop_lives_on(
    server: MockAuthServer, make_client: ClientFactory
) -> None:
    client = make_client(_panic_on_fetch=True)

    async def main() -> tuple[list[BaseException | str], list[BaseException | Any], str]:
        tokens = await asyncio.gather(*(client.get_token_async() for _ in range(20)), return_exceptions=True)
        infos = await asyncio.gather(client.fetch_token_async(), return_exceptions=True)
        return tokens, infos, await make_client().get_token_async()

    tokens, infos, good = asyncio.run(main())
    for e in [*tokens, *infos]:
        assert isinstance(e, InternalError), repr(e)
        assert e.code == "ERR_INTERNAL"
        assert "panic" in str(e)
    assert server.verify_access_token(good)["sub"] == CLIENT_ID
    assert server.token_requests() == 1


# ---------------------------------------------------------------------------------------------------------
# Rotation under load


class TokenLog:
    """Every token callers got: first and last time seen, verified (signature and exp) at first sight."""

    def __init__(self, server: MockAuthServer, lifetime: int) -> None:
        self.server = server
        self.lifetime = lifetime
        self.lock = threading.Lock()
        self.exp: dict[str, int] = {}
        self.seen: dict[str, list[float]] = {}
        self.problems: list[str] = []

    def check(self, token: str, expires_in: float | None = None) -> None:
        now = time.time()
        with self.lock:
            exp = self.exp.get(token)
            if exp is None:
                # Raises ValueError on a bad signature or a token expired by the server's clock.
                exp = self.exp[token] = int(self.server.verify_access_token(token)["exp"])
                self.seen[token] = [now, now]
            else:
                self.seen[token][1] = now
        # exp is whole seconds: the server floors the issue time, so a token is truly valid until at most
        # exp + 1. A caller must never get one later than that.
        if now >= exp + 1:
            self.problems.append(f"token ...{token[-8:]} served at {now:.3f}, exp {exp}")
        if expires_in is not None and expires_in <= 0:
            self.problems.append(f"token ...{token[-8:]} served with expires_in {expires_in}")

    def assert_rotated(self, server: MockAuthServer, client: TokenClient, rotations: int) -> None:
        assert self.problems == []
        distinct = len(self.seen)
        assert distinct >= rotations, f"only {distinct} tokens"
        for token, (first, last) in self.seen.items():
            assert last - first < self.lifetime, f"...{token[-8:]} served for {last - first:.2f}s"
        requests = server.token_requests()
        # About one request per rotation: one refresh may have finished after the callers stopped.
        assert distinct <= requests <= distinct + 1, f"{requests} requests for {distinct} tokens"
        stats = client.stats()
        assert stats["failures"] == 0, stats
        # A refresh started just before the callers stopped may not have reached the server yet.
        assert requests <= stats["fetches"] <= requests + 1, stats


def test_tokens_rotate_under_16_threads_without_anyone_getting_an_expired_one(
    server: MockAuthServer, make_client: ClientFactory
) -> None:
    lifetime = 2  # seconds
    server.set_token_lifetime(lifetime)
    client = make_client()  # the defaults: refresh at 80 % of the lifetime, skew capped at a tenth of it
    log = TokenLog(server, lifetime)
    duration = 7.0
    stop = time.monotonic() + duration

    def caller(i: int) -> int:
        calls = 0
        while time.monotonic() < stop:
            if i % 2:
                info = client.fetch_token()
                log.check(info.access_token, info.expires_in)
            else:
                log.check(client.get_token())
            calls += 1
        return calls

    with ThreadPoolExecutor(max_workers=16) as pool:
        calls = list(pool.map(caller, range(16)))  # re-raises the first exception of any thread
    assert all(n > 0 for n in calls)
    log.assert_rotated(server, client, rotations=3)
    assert client.stats()["refreshes"] >= 2


def test_tokens_rotate_under_16_asyncio_tasks_without_anyone_getting_an_expired_one(
    server: MockAuthServer, make_client: ClientFactory
) -> None:
    lifetime = 2  # seconds
    server.set_token_lifetime(lifetime)
    client = make_client()
    log = TokenLog(server, lifetime)
    duration = 5.0

    async def main() -> list[int]:
        stop = time.monotonic() + duration

        async def caller(i: int) -> int:
            calls = 0
            while time.monotonic() < stop:
                if i % 2:
                    info = await client.fetch_token_async()
                    log.check(info.access_token, info.expires_in)
                else:
                    log.check(await client.get_token_async())
                calls += 1
                # A cached token resolves at once and awaiting it does not yield: let the other tasks run.
                await asyncio.sleep(0)
            return calls

        return await asyncio.gather(*(caller(i) for i in range(16)))

    calls = asyncio.run(main())
    assert all(n > 0 for n in calls)
    log.assert_rotated(server, client, rotations=3)


# ---------------------------------------------------------------------------------------------------------
# Logging


def test_fetches_retries_and_failures_are_logged_without_secrets(
    server: MockAuthServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="m2m_auth")

    def since(mark: int) -> list[logging.LogRecord]:
        # Only this test's server: a background refresh of an earlier test's client may still log meanwhile.
        def ours(r: logging.LogRecord) -> bool:
            message = r.getMessage()
            kind = str(getattr(r, "m2m_event", ""))
            return not kind.startswith("refresh") and (server.url in message or "http://" not in message)

        return [r for r in m2m_records(caplog)[mark:] if ours(r)]

    def kinds(records: list[logging.LogRecord]) -> list[str]:
        return [str(getattr(r, "m2m_event", "")) for r in records]

    # A fetch.
    token = make_client().get_token()
    fetch = since(0)
    assert kinds(fetch) == ["request", "token_received"]
    assert all(r.levelno == logging.DEBUG for r in fetch)
    assert all(getattr(r, "m2m_client_id", None) == CLIENT_ID for r in fetch)
    assert server.token_url in fetch[0].getMessage()

    # A retry: one 503, then a token.
    mark = len(m2m_records(caplog))
    server.push_faults([{"status": 503, "body": f"overloaded, try again ({SECRET})"}])
    retried = make_client(max_attempts=2, retry_backoff=0.01).get_token()
    assert kinds(since(mark)) == ["request", "retry", "request", "token_received"]
    retry = since(mark)[1]
    assert retry.levelno == logging.INFO
    assert "attempt 1" in retry.getMessage()

    # A failure.
    mark = len(m2m_records(caplog))
    with pytest.raises(OAuthError):
        make_client(client_secret=WRONG_SECRET).get_token()
    assert kinds(since(mark)) == ["request", "fetch_failed"]
    failed = since(mark)[-1]
    assert failed.levelno == logging.ERROR
    assert "invalid_client" in failed.getMessage()

    # A failure whose answer echoes the secret.
    mark = len(m2m_records(caplog))
    server.push_faults(
        [{"status": 400, "headers": {"content-type": "text/html"}, "body": f"<p>{SECRET}</p>"}]
    )
    with pytest.raises(M2MAuthError):
        make_client(max_attempts=1).get_token()
    assert kinds(since(mark)) == ["request", "fetch_failed"]

    # No record shows the secret or a token, nor does the formatted log text.
    assert_no_secret_in_logs(caplog, SECRET, WRONG_SECRET, token, retried)
    for needle in (SECRET, WRONG_SECRET, token, retried):
        assert needle not in caplog.text


def test_nothing_is_logged_on_the_cache_hit_path(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    client.get_token()
    caplog.set_level(logging.DEBUG, logger="m2m_auth")
    for _ in range(100):
        client.get_token()
    assert m2m_records(caplog) == []


# ---------------------------------------------------------------------------------------------------------
# Refresh ahead of expiry


def test_after_the_refresh_ratio_the_current_token_is_served_and_refreshed_in_the_background(
    server: MockAuthServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="m2m_auth")
    # A 3 s token (2 to 3 s of life: the server rounds exp down), refreshed after 30 % of its life; unusable
    # only in its last tenth (the skew).
    server.set_token_lifetime(3)
    client = make_client(refresh_ratio=0.3)
    first = client.fetch_token()
    token = client.get_token()
    assert token == first.access_token
    assert server.token_requests() == 1
    time.sleep(0.6 * first.expires_in)  # 60 % of its life gone: refresh due, token still usable
    again = client.get_token()
    assert again is token, "the current token is served while the refresh runs"
    wait_for(lambda: server.token_requests() >= 2, "the background refresh request")
    wait_for(lambda: client.get_token() != token, "the refreshed token")
    fresh = client.get_token()
    assert server.verify_access_token(fresh)["sub"] == CLIENT_ID
    assert server.token_requests() == 2
    stats = client.stats()
    assert stats["refreshes"] == 1
    assert stats["fetches"] == 2
    assert stats["failures"] == 0
    assert "refresh_started" in events(caplog)
    assert_no_secret_in_logs(caplog, SECRET, token, fresh)


def test_refresh_ahead_through_get_token_async(server: MockAuthServer, make_client: ClientFactory) -> None:
    server.set_token_lifetime(3)
    client = make_client(refresh_ratio=0.3)

    async def main() -> tuple[str, str, str]:
        first = await client.fetch_token_async()
        await asyncio.sleep(0.6 * first.expires_in)  # refresh due (30 %), token still usable
        again = await client.get_token_async()
        deadline = time.monotonic() + 10
        while (fresh := await client.get_token_async()) == first.access_token:
            assert time.monotonic() < deadline, "timed out waiting for the refreshed token"
            await asyncio.sleep(0.01)
        return first.access_token, again, fresh

    first, again, fresh = asyncio.run(main())
    assert again == first
    assert fresh != first
    assert server.verify_access_token(fresh)["sub"] == CLIENT_ID
    assert server.token_requests() == 2
    assert client.stats()["refreshes"] == 1


def test_a_failed_background_refresh_keeps_serving_the_current_token(
    server: MockAuthServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="m2m_auth")
    server.set_token_lifetime(3)
    client = make_client(refresh_ratio=0.3, max_attempts=1)
    first = client.fetch_token()
    token = client.get_token()
    server.push_faults([{"status": 500, "body": SECRET}])
    time.sleep(0.6 * first.expires_in)  # refresh due (30 %), token still usable (until 90 %)
    assert client.get_token() is token  # starts the refresh, which fails
    wait_for(lambda: "refresh_failed" in events(caplog), "the refresh to fail")
    failed = next(r for r in m2m_records(caplog) if getattr(r, "m2m_event", None) == "refresh_failed")
    assert failed.levelno == logging.WARNING
    assert client.get_token() is token, "a still-valid token keeps being served while a refresh fails"
    # A later refresh (after a quarter of the time left) replaces it before it expires.
    wait_for(lambda: client.get_token() != token, "a later refresh to succeed")
    fresh = client.get_token()
    assert server.verify_access_token(fresh)["sub"] == CLIENT_ID
    assert [r["outcome"] for r in server.requests()] == ["token", "fault", "token"]
    stats = client.stats()
    assert stats["failures"] == 1
    assert stats["refreshes"] == 2
    assert_no_secret_in_logs(caplog, SECRET, token, fresh)


@needs_fork
@fork_warning
def test_forked_workers_share_the_parent_s_token_through_redis(server: MockAuthServer) -> None:
    # gunicorn --preload: the client is built (and used) before the workers fork; each worker's fresh core
    # finds the token in Redis instead of asking the server.
    with RedisServer() as redis:
        client = TokenClient(
            token_url=server.token_url, client_id=CLIENT_ID, client_secret=SECRET, cache_url=redis.url
        )
        token = client.get_token()

        def worker() -> str:
            got = client.get_token()
            return json.dumps({"same": got == token, "stats": client.stats()})

        for _ in range(3):
            code, report = run_in_child(worker)
            assert code == 0, report
            result = json.loads(report)
            assert result["same"], result
            assert (result["stats"]["fetches"], result["stats"]["shared_hits"]) == (0, 1), result
        assert server.token_requests() == 1
