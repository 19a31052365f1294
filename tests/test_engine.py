from __future__ import annotations

import gc
import weakref
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from k8saudit.engine import Stopped, run_check, run_checks
from k8saudit.inventory import FORBIDDEN
from k8saudit.model import Severity, Status, Subject, failed, passed
from k8saudit.registry import CheckMeta, Context, load_checks
from tests import factories as f
from tests.demo import build_report

CTX = Context.default(datetime(2026, 11, 20, tzinfo=UTC))


def meta(function, inputs=()) -> CheckMeta:
    return CheckMeta(
        "RES-999", "t", "resilience", Severity.LOW, "r", "m", ("https://x",), tuple(inputs), function
    )


def test_a_raising_check_becomes_one_error_finding() -> None:
    def broken(inv, ctx):
        yield passed(Subject.cluster(), "fine so far")
        raise KeyError("spec")

    findings = run_check(meta(broken), f.make_inventory(), CTX)
    assert [(x.status, x.check_id) for x in findings] == [(Status.ERROR, "RES-999")]
    assert "KeyError" in findings[0].message


def test_unreadable_inputs_give_unknown_without_running_the_check() -> None:
    def never(inv, ctx):
        raise AssertionError("must not run")

    findings = run_check(meta(never, ["nodes"]), f.make_inventory(coverage={"nodes": FORBIDDEN}), CTX)
    assert [x.status for x in findings] == [Status.UNKNOWN]


def test_findings_are_stamped_and_ordered() -> None:
    def unordered(inv, ctx):
        yield failed(Subject("Node", "", "b"), "x")
        yield passed(Subject("Node", "", "a"), "y")

    findings = run_check(meta(unordered), f.make_inventory(), CTX)
    assert [(x.subject.name, x.check_id) for x in findings] == [("a", "RES-999"), ("b", "RES-999")]


def test_a_full_run_is_deterministic(fixture_inventory) -> None:
    first = [x.to_dict() for x in run_checks(fixture_inventory, CTX)]
    second = [x.to_dict() for x in run_checks(fixture_inventory, CTX, load_checks().values())]
    assert first == second and first


def test_stop_ends_a_run_between_checks() -> None:
    """What a UI that quits or moves on asks: no check starts once `stop` says so."""
    ran: list[str] = []

    def recording(name):
        def check(inv, ctx):
            ran.append(name)
            yield passed(Subject.cluster(), name)

        return check

    checks = [replace(meta(recording(name)), id=name) for name in ("RES-901", "RES-902", "RES-903")]
    with pytest.raises(Stopped, match="stopped before RES-903"):
        run_checks(f.make_inventory(), CTX, checks, stop=lambda: len(ran) == 2)
    assert ran == ["RES-901", "RES-902"]
    assert [x.check_id for x in run_checks(f.make_inventory(), CTX, checks, stop=lambda: False)] == [
        "RES-901",
        "RES-902",
        "RES-903",
    ]


def test_nothing_the_checks_cache_keeps_an_inventory_alive() -> None:
    """Checks cache what they derive per inventory (`ExposureIndex.of`, `RbacIndex.of`). A cache
    entry holding its own inventory kept every inventory checked in the process alive: one per
    rescan in the UI, one per cluster of `scan --all-contexts`, one per re-checked snapshot of a
    fleet directory."""
    report = build_report()
    assert any(f.check_id.startswith("EXP-") for f in report.findings)  # the exposure index was built
    gone = weakref.ref(report.inventory)
    del report
    gc.collect()
    assert gone() is None
