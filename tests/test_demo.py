"""The shipped demo snapshot: in sync with its builder, and showing failures in every area."""

from __future__ import annotations

import gzip

import orjson

from k8saudit.model import Status
from k8saudit.registry import AREAS
from k8saudit.snapshot import dumps, load
from tests.demo import SNAPSHOT_PATH, build_report


def test_shipped_demo_snapshot_matches_the_builder() -> None:
    shipped = orjson.loads(gzip.decompress(SNAPSHOT_PATH.read_bytes()))
    built = orjson.loads(dumps(build_report()))
    # The fingerprint covers the source code itself: any edit changes it, and a stale one only
    # means the demo is re-checked when opened, which is what a changed catalog needs anyway.
    shipped.pop("evaluation", None)
    built.pop("evaluation")
    assert shipped == built, "regenerate with: python -m tests.demo"


def test_demo_fails_in_every_area() -> None:
    report = load(SNAPSHOT_PATH).report()
    failing_areas = {
        report.checks[f.check_id].area for f in report.findings if f.status in (Status.FAIL, Status.WARN)
    }
    assert failing_areas == set(AREAS)
    assert not [f for f in report.findings if f.status is Status.ERROR]
