"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.replay import ReplayServer


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A started replay API server (recorded v1.24 cluster), stopped after the test."""
    with ReplayServer() as srv:
        yield srv
    assert not srv.errors, f"replay server raised: {srv.errors}"
