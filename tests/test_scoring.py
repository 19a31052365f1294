"""Scores: shares, severity weights, exclusions, and exact points per fix."""

from __future__ import annotations

import pytest

from k8saudit.model import Finding, Severity, Status, Subject
from k8saudit.registry import CheckMeta
from k8saudit.scoring import grade, score


def meta(check_id: str, area: str, severity: str) -> CheckMeta:
    return CheckMeta(
        check_id, "title", area, Severity(severity), "r", "m", ("https://x",), (), lambda inv, ctx: []
    )


CHECKS = {
    "RBAC-001": meta("RBAC-001", "rbac", "critical"),
    "RBAC-002": meta("RBAC-002", "rbac", "low"),
    "VER-001": meta("VER-001", "versions", "high"),
    "VER-002": meta("VER-002", "versions", "info"),
}


def finding(check_id: str, status: Status, name: str, waived: bool = False) -> Finding:
    return Finding(check_id, status, Subject("Node", "", name), "m", {}, {"reason": "ok"} if waived else None)


def findings() -> list[Finding]:
    return [
        finding("RBAC-001", Status.PASS, "a"),
        finding("RBAC-001", Status.FAIL, "b"),
        finding("RBAC-001", Status.WARN, "c"),
        finding("RBAC-001", Status.UNKNOWN, "d"),
        finding("RBAC-001", Status.FAIL, "e", waived=True),
        finding("RBAC-002", Status.PASS, "a"),
        finding("VER-001", Status.FAIL, "a"),
        finding("VER-001", Status.PASS, "b"),
        finding("VER-002", Status.FAIL, "a"),
    ]


def test_check_area_and_overall_scores() -> None:
    s = score(findings(), CHECKS)
    rbac1 = s.checks["RBAC-001"]
    assert rbac1.denominator == 3 and rbac1.ratio == pytest.approx(0.5)  # pass + half a warn
    assert rbac1.counts["unknown"] == 1 and rbac1.waived == 1
    assert s.areas["rbac"].score == pytest.approx(100 * (10 * 0.5 + 1 * 1.0) / 11)
    assert s.areas["versions"].score == pytest.approx(50.0), "info checks weigh nothing"
    assert s.areas["dns"].score is None
    assert s.overall == pytest.approx((s.areas["rbac"].score + 50.0) / 2)


def test_points_for_a_fix_are_exactly_what_the_score_gains() -> None:
    base = findings()
    before = score(base, CHECKS)
    for i, f in enumerate(base):
        points = before.points_for(f)
        if not f.status.is_problem or f.waived or CHECKS[f.check_id].severity is Severity.INFO:
            assert points == 0
            continue
        fixed = [*base[:i], finding(f.check_id, Status.PASS, f.subject.name), *base[i + 1 :]]
        assert score(fixed, CHECKS).overall - before.overall == pytest.approx(points)


def test_top_fixes_rank_by_points() -> None:
    s = score(findings(), CHECKS)
    fixes = s.top_fixes()
    assert [f[0] for f in fixes] == sorted(
        (f[0] for f in fixes), key=lambda c: -s.check_points(c, s.checks[c].denominator - s.checks[c].earned)
    )
    fixed_all = [
        f
        if f.check_id != fixes[0][0] or not f.status.is_problem or f.waived
        else finding(f.check_id, Status.PASS, f.subject.name)
        for f in findings()
    ]
    assert score(fixed_all, CHECKS).overall - s.overall == pytest.approx(fixes[0][1])


def test_area_weights_and_grades() -> None:
    s = score(findings(), CHECKS, {"rbac": 0.0, "versions": 1.0})
    assert s.overall == pytest.approx(50.0)
    assert [grade(x) for x in (95, 85, 75, 65, 10, None)] == ["A", "B", "C", "D", "F", "-"]


def test_nothing_scored_means_no_score() -> None:
    s = score([finding("RBAC-001", Status.UNKNOWN, "x")], CHECKS)
    assert s.overall is None and s.grade == "-" and s.top_fixes() == []


def test_rescoring_some_checks_gives_what_scoring_everything_gives() -> None:
    """A what-if over one check's findings (a waiver's preview) needs no pass over the rest."""
    from k8saudit.scoring import rescore_checks

    before = score(findings(), CHECKS, {"rbac": 2.0})
    changed = [finding("RBAC-001", Status.PASS, "a"), finding("RBAC-001", Status.FAIL, "b", waived=True)]
    everything = [*changed, *(f for f in findings() if f.check_id != "RBAC-001")]
    expected = score(everything, CHECKS, {"rbac": 2.0})
    rescored = rescore_checks(before, changed, {"RBAC-001"}, CHECKS)
    assert rescored.overall == pytest.approx(expected.overall) and rescored.overall != before.overall
    assert rescored.checks["RBAC-001"].to_dict() == expected.checks["RBAC-001"].to_dict()
    assert rescored.areas["rbac"].weight == 2.0
    assert before.checks["RBAC-001"].denominator == 3, "the scores it started from are left as they were"
