"""Opening a snapshot re-runs the current checks, unless the code, catalog, settings and calendar
that produced its findings are exactly today's (the evaluation fingerprint)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import orjson
import pytest

from k8saudit import report as report_module
from k8saudit.registry import Config
from k8saudit.snapshot import load, save
from k8saudit.waivers import WaiverPolicy
from tests.demo import build_report


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return save(build_report(), tmp_path / "demo.json")


@pytest.fixture
def check_runs(monkeypatch) -> list[int]:
    runs: list[int] = []
    original = report_module.run_checks

    def counting(*args, **kwargs):
        runs.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(report_module, "run_checks", counting)
    return runs


def findings_of(report) -> list[dict]:
    return [f.to_dict() for f in report.findings]


def test_same_code_and_settings_reuse_the_recorded_findings(saved: Path, check_runs: list[int]) -> None:
    snapshot = load(saved)
    assert snapshot.fingerprint and snapshot.is_current()
    reused = snapshot.report()
    assert check_runs == []
    assert reused.fingerprint == snapshot.fingerprint and not reused.as_recorded
    rechecked = report_module.evaluate(snapshot.inventory, snapshot.collection, calendar=snapshot.calendar)
    assert findings_of(reused) == findings_of(rechecked)
    assert reused.scores.to_dict() == rechecked.scores.to_dict()


@pytest.mark.parametrize("change", ["settings", "calendar", "no fingerprint", "other code"])
def test_anything_else_re_runs_the_checks(
    saved: Path, check_runs: list[int], change: str, monkeypatch
) -> None:
    snapshot = load(saved)
    kwargs = {}
    if change == "settings":
        kwargs["config"] = Config(backup_max_age_hours=48)
    elif change == "calendar":
        kwargs["calendar"] = replace(snapshot.calendar, as_of=date(2030, 1, 1))
    elif change == "no fingerprint":
        data = orjson.loads(saved.read_bytes())
        del data["evaluation"]
        saved.write_bytes(orjson.dumps(data))
        snapshot = load(saved)
    else:
        monkeypatch.setattr(report_module, "_code_digest", lambda: "another build")
    assert not snapshot.is_current(**kwargs)  # what the TUI asks before showing them as saved
    snapshot.report(**kwargs)
    assert check_runs == [1]


def test_waivers_are_those_of_today_even_when_findings_are_reused(saved: Path, tmp_path: Path) -> None:
    snapshot = load(saved)
    problem = next(f for f in snapshot.findings if f.status.is_problem)
    problem.waiver = {"source": "file", "reason": "accepted then"}
    today = snapshot.report(waivers=WaiverPolicy(), today=date(2026, 11, 21))
    assert not any(f.waived for f in today.findings if f.key == problem.key)
    assert problem.waiver is not None, "the recorded findings keep what they were saved with"
    assert snapshot.report(as_recorded=True).findings[snapshot.findings.index(problem)].waived


def test_reused_findings_drop_the_waiver_marks_they_were_saved_with(saved: Path) -> None:
    """Straight from the loader's decoded form (the recorded findings never read as Findings)."""
    data = orjson.loads(saved.read_bytes())
    marked = next(i for i, f in enumerate(data["findings"]) if f["status"] in ("fail", "warn"))
    data["findings"][marked]["waiver"] = {"source": "file", "reason": "accepted then"}
    saved.write_bytes(orjson.dumps(data))
    snapshot = load(saved)
    today = snapshot.report(waivers=WaiverPolicy(), today=date(2026, 11, 21))
    assert not today.findings[marked].waived
    assert [f.key for f in today.findings] == [f.key for f in snapshot.findings]
    assert snapshot.findings[marked].waiver == {"source": "file", "reason": "accepted then"}
