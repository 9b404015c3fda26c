"""Shared fixtures: one mock authorization server per session, and a factory for clients of it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from m2m_auth import TokenClient
from m2m_auth.testing import MockAuthServer

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def mock_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads((VECTORS / "mock-server.json").read_text(encoding="utf-8"))
    return config


@pytest.fixture(scope="session")
def vectors_server() -> Iterator[MockAuthServer]:
    """The mock server configured with the shared vectors' clients."""
    with MockAuthServer(mock_config()) as server:
        yield server


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No M2M_* variable from the machine running the tests; monkeypatch restores them afterwards."""
    for name in list(os.environ):
        if name.startswith("M2M_"):
            monkeypatch.delenv(name)
    yield monkeypatch


@pytest.fixture()
def server() -> Iterator[MockAuthServer]:
    """A fresh mock server with the demo client (demo-client / demo-secret, both auth methods)."""
    with MockAuthServer() as s:
        yield s


@pytest.fixture()
def make_client(server: MockAuthServer) -> Callable[..., TokenClient]:
    def make(**kwargs: Any) -> TokenClient:
        args: dict[str, Any] = {
            "token_url": server.token_url,
            "client_id": "demo-client",
            "client_secret": "demo-secret",
        }
        args.update(kwargs)
        return TokenClient(**args)

    return make
