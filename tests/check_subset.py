"""Run evaluations against a fixed handful of checks.

Tests of the machinery around the checks (waivers, diff, exports, gates, fleet) assert exact
findings, scores and counts; they should not change every time a new check joins the catalog.
`only_checks(...)` makes `k8saudit.report.evaluate` (and so snapshots, the CLI and the fleet
scanner) see just the named checks while it is active.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from k8saudit.registry import CheckMeta, load_checks

CORE = ("VER-003", "RBAC-001", "RBAC-002")


@contextmanager
def only_checks(*ids: str) -> Iterator[dict[str, CheckMeta]]:
    catalog = load_checks()
    subset = {check_id: catalog[check_id] for check_id in ids or CORE}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("k8saudit.report.load_checks", lambda: dict(subset))
        yield subset
