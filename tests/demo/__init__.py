"""The demo cluster shipped as `snapshots/demo.json.gz` (what `k8saudit demo` opens).

A realistic self-managed (kops on AWS) production cluster, "shop-prod", that carries the failures
of the incidents in ../shared/seeds: each area module here (`base`, `rbac`, `versions`, …) adds
its objects through `contribute(demo)`. Regenerate the snapshot with `python -m tests.demo`; a
test keeps the shipped file in sync with this builder.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import pkgutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from k8saudit.inventory import Inventory
from k8saudit.report import CollectionInfo, Report, evaluate
from k8saudit.siblings import SIBLING_KINDS, share_with

COLLECTED_AT = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
SERVER = "https://api.shop-prod.k8s.example.com"
CONTEXT = "shop-prod"
VERSION = "v1.27.9"
SNAPSHOT_PATH = Path(__file__).resolve().parents[2] / "snapshots" / "demo.json.gz"


@dataclass
class DemoCluster:
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    applied_api_versions: dict[str, dict[str, str]] = field(default_factory=dict)
    served_api_versions: set[str] = field(default_factory=set)
    coverage: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, *objects: dict[str, Any]) -> None:
        self.objects.setdefault(key, []).extend(copy.deepcopy(list(objects)))

    def applied(self, key: str, obj: dict[str, Any], api_version: str) -> None:
        """Record that `obj` was last applied with kubectl under `api_version`."""
        meta = obj["metadata"]
        self.applied_api_versions.setdefault(key, {})[f"{meta.get('namespace', '')}/{meta['name']}"] = (
            api_version
        )


def build_inventory() -> Inventory:
    demo = DemoCluster()
    package = importlib.import_module(__name__)
    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name != "__main__"):
        importlib.import_module(f"{__name__}.{module}").contribute(demo)
    for key, items in demo.objects.items():
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        if key in SIBLING_KINDS:  # as the collector leaves them, so the snapshot has a sharing table
            for previous, item in itertools.pairwise(items):
                share_with(previous, item)
    return Inventory.from_objects(
        demo.objects,
        version=VERSION,
        server=SERVER,
        context=CONTEXT,
        coverage=demo.coverage,
        served_api_versions=demo.served_api_versions,
        applied_api_versions=demo.applied_api_versions,
    )


def build_report() -> Report:
    inventory = build_inventory()
    collection = CollectionInfo(
        started_at=COLLECTED_AT - timedelta(seconds=4.2),
        finished_at=COLLECTED_AT,
        notes=["demo cluster: built from the incidents in the k8saudit seeds, not a real cluster"],
    )
    # waiver expiry judged as of the collection day: the same builder writes the same snapshot
    return evaluate(inventory, collection, today=COLLECTED_AT.date())
