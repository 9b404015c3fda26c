"""Helpers the Python test files share (fixtures live in conftest.py)."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest
from m2m_auth.testing import MockAuthServer


def raised(fn: Callable[[], object]) -> BaseException:
    """Runs `fn` and returns what it raised; fails if it raised nothing."""
    try:
        fn()
    except BaseException as e:
        return e
    pytest.fail("expected an exception")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Polls `condition` until it holds; fails after `timeout` seconds (a hang fails instead of blocking)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def last_request(server: MockAuthServer) -> dict[str, Any]:
    requests = server.requests()
    assert requests, "no request recorded"
    return requests[-1]


def form_value(request: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in request["form"] if k == name), None)


def header(request: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in request["headers"] if k == name), None)
