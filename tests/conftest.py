"""Shared pytest fixtures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from k8saudit.inventory import Inventory
from k8saudit.redact import redact
from tests.replay import ReplayServer

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "kube-apiserver-v1.24"


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A started replay API server (recorded v1.24 cluster), stopped after the test."""
    with ReplayServer() as srv:
        yield srv
    assert not srv.errors, f"replay server raised: {srv.errors}"


@pytest.fixture
def fixture_inventory() -> Inventory:
    """The recorded v1.24 lists as an inventory (no server involved)."""
    objects = {}
    for path in FIXTURES.glob("list_*.json"):
        if "limit25" in path.name:
            continue
        key = path.stem.removeprefix("list_").removesuffix("_metadata_only")
        items = json.loads(path.read_text())["response"]["body"]["items"]
        for item in items:
            redact(key, item, key == "secrets")
        objects[key] = items
    return Inventory.from_objects(objects, version="v1.24.0+0")


@pytest.fixture(autouse=True)
def no_user_policy_file(tmp_path_factory, monkeypatch) -> None:
    """A developer's own ~/.config/k8saudit/waivers.toml must not change what tests see."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
