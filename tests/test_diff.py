"""Diff: fixed findings are resolved, introduced ones are new (worst first), status changes are
changes; scores per area; objects added and removed; both sides judged the same way."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from k8saudit import snapshot
from k8saudit.cli import main
from k8saudit.diff import (
    CHANGED,
    NEW,
    RESOLVED,
    UNCHANGED,
    ScoreDelta,
    classify,
    diff_reports,
    diff_snapshots,
    render_diff_text,
)
from k8saudit.model import Finding, Status, Subject
from k8saudit.report import CollectionInfo, Report, evaluate, utcnow
from k8saudit.waivers import Waiver, WaiverPolicy
from tests import factories as f
from tests.check_subset import only_checks

DAY_ONE = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
TODAY = date(2026, 3, 1)


@pytest.fixture(scope="module", autouse=True)
def _core_checks():
    """Exact findings and counts: the trio of checks these tests are written against."""
    with only_checks():
        yield


def admin_binding(name: str, kind: str = "ServiceAccount"):
    return f.clusterrolebinding(name, "cluster-admin", [f.subject(kind, name, "ci")])


def cluster(nodes: dict[str, str], bindings: list, *, coverage: dict[str, str] | None = None, pods=()):
    return f.make_inventory(
        version="v1.29.3",
        nodes=[f.node(name, kubelet=kubelet) for name, kubelet in nodes.items()],
        clusterrolebindings=[f.default_cluster_admin_binding(), *bindings],
        rolebindings=[],
        pods=list(pods),
        coverage=coverage,
    )


def old_inventory(coverage: dict[str, str] | None = None):
    return cluster(
        {"node-a": "v1.25.4", "node-b": "v1.28.2", "node-c": "v1.26.1"},
        [admin_binding("ci-admin"), admin_binding("oncall", "User")],
        pods=[f.pod("web-1", "shop")],
        coverage=coverage,
    )


def new_inventory():
    """ci-admin fixed, argo-admin introduced; node-a upgraded 1.25 -> 1.26 (fail -> warn), node-b
    gone, node-d joined on 1.25 (a new failure); pods became unreadable."""
    return cluster(
        {"node-a": "v1.26.1", "node-c": "v1.26.1", "node-d": "v1.25.4"},
        [admin_binding("oncall", "User"), admin_binding("argo-admin")],
        coverage={"pods": "forbidden"},
    )


def report_at(inventory, when: datetime, **kwargs) -> Report:
    return evaluate(inventory, CollectionInfo(when - timedelta(seconds=3), when), today=TODAY, **kwargs)


@pytest.fixture(scope="module")
def diff():
    return diff_reports(
        report_at(old_inventory(), DAY_ONE), report_at(new_inventory(), DAY_ONE + timedelta(days=7))
    )


def keyed(changes) -> list[tuple[str, str]]:
    return [(c.finding.check_id, c.finding.subject.name) for c in changes]


def test_fixed_findings_are_resolved_and_introduced_ones_new_worst_first(diff) -> None:
    assert keyed(diff.new_findings) == [("RBAC-001", "argo-admin"), ("VER-003", "node-d")], "critical first"
    assert keyed(diff.resolved) == [("RBAC-001", "ci-admin")]
    assert [(c.old_status, c.new_status) for c in diff.resolved] == [("fail", None)]
    assert keyed(diff.changed) == [("VER-003", "node-a")]
    assert (diff.changed[0].old_status, diff.changed[0].new_status) == ("fail", "warn")
    # both high: the failure before the warning
    assert keyed(diff.unchanged) == [("RBAC-002", "oncall"), ("VER-003", "node-c")]
    # passing subjects: node-b gone; RBAC-002 passed on ci-admin (gone) and passes on argo-admin (new)
    assert (diff.passing_added, diff.passing_removed) == (1, 2)


def test_scores_per_area_and_overall(diff) -> None:
    old, new = diff.old.scores, diff.new.scores
    assert (
        diff.areas["rbac"].old == old.areas["rbac"].score
        and diff.areas["rbac"].new == new.areas["rbac"].score
    )
    versions = diff.areas["versions"].to_dict()
    assert versions["delta"] == round(versions["new"] - versions["old"], 2)
    assert diff.overall.shown_delta(1) == round(round(new.overall, 1) - round(old.overall, 1), 1)
    assert diff.areas["dns"].shown_delta(2) is None and diff.areas["dns"].to_dict()["delta"] is None


def test_objects_added_and_removed_only_for_kinds_read_in_both(diff) -> None:
    assert diff.objects["Node"].added == [("", "node-d")] and diff.objects["Node"].removed == [("", "node-b")]
    bindings = diff.objects["ClusterRoleBinding"]
    assert bindings.added == [("", "argo-admin")] and bindings.removed == [("", "ci-admin")]
    assert "Pod" not in diff.objects, "pods became forbidden: not 'removed'"
    assert [(c.kind, c.old, c.new) for c in diff.coverage] == [("Pod", "ok", "forbidden")]


def test_text_and_json(diff) -> None:
    text = render_diff_text(diff)
    assert "New findings (2):\n  CRITICAL RBAC-001  ClusterRoleBinding argo-admin: absent -> fail" in text
    assert "Resolved (1):\n  CRITICAL RBAC-001  ClusterRoleBinding ci-admin: fail -> gone" in text
    assert "Changed (1):\n  HIGH     VER-003   Node node-a: fail -> warn" in text
    assert "  Node: +1 -1\n    + node-d\n    - node-b" in text
    assert "Coverage changed (objects of these kinds not compared):\n  Pod: ok -> forbidden" in text
    data = json.loads(json.dumps(diff.to_dict()))
    assert data["schema"] == "k8saudit.diff/1"
    assert data["counts"] == {
        NEW: 2,
        RESOLVED: 1,
        CHANGED: 1,
        UNCHANGED: 2,
        "passing_added": 1,
        "passing_removed": 2,
    }
    assert (
        data["findings"][NEW][0]["check_id"] == "RBAC-001"
        and data["findings"][NEW][0]["severity"] == "critical"
    )
    assert data["objects"]["Node"] == {
        "added": [{"namespace": "", "name": "node-d"}],
        "removed": [{"namespace": "", "name": "node-b"}],
    }


def finding(status: Status | None, waived: bool = False) -> Finding | None:
    if status is None:
        return None
    return Finding("RBAC-001", status, Subject("Node", "", "n"), "m", {}, {"reason": "r"} if waived else None)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, Status.FAIL, NEW),
        (Status.PASS, Status.WARN, NEW),
        (Status.NOT_APPLICABLE, Status.FAIL, NEW),
        (Status.FAIL, None, RESOLVED),
        (Status.WARN, Status.PASS, RESOLVED),
        (Status.FAIL, Status.WARN, CHANGED),
        (Status.WARN, Status.FAIL, CHANGED),
        (Status.FAIL, Status.UNKNOWN, CHANGED),  # not resolved: we just cannot see it any more
        (Status.UNKNOWN, Status.FAIL, CHANGED),
        (Status.PASS, Status.ERROR, CHANGED),
        (Status.FAIL, Status.FAIL, UNCHANGED),
        (Status.PASS, Status.PASS, None),
        (Status.PASS, Status.NOT_APPLICABLE, None),
        (None, Status.PASS, None),
        (Status.PASS, None, None),
        (None, Status.UNKNOWN, CHANGED),  # a check that could no longer be evaluated: listed
        (Status.UNKNOWN, None, CHANGED),  # ... or that can be again
        (None, Status.ERROR, CHANGED),
        (Status.UNKNOWN, Status.UNKNOWN, None),
    ],
)
def test_classify(old: Status | None, new: Status | None, expected: str | None) -> None:
    assert classify(finding(old), finding(new)) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (Status.FAIL, None, CHANGED),  # the side that could not see it says unknown: not resolved
        (Status.WARN, None, CHANGED),
        (Status.PASS, None, CHANGED),  # like pass -> unknown
        (None, Status.FAIL, CHANGED),  # unknown -> fail: not new, it was not visible before
        (None, Status.PASS, CHANGED),
    ],
)
def test_classify_a_side_that_could_not_see_the_subject_as_unknown(
    old: Status | None, new: Status | None, expected: str
) -> None:
    assert classify(finding(old), finding(new), unseen=True) == expected


def test_waiving_or_unwaiving_a_problem_is_a_change() -> None:
    assert classify(finding(Status.FAIL), finding(Status.FAIL, waived=True)) == CHANGED
    assert classify(finding(Status.FAIL, waived=True), finding(Status.FAIL)) == CHANGED
    assert classify(finding(Status.FAIL, waived=True), finding(Status.FAIL, waived=True)) == UNCHANGED


def save_pair(tmp_path: Path) -> tuple[Path, Path]:
    old = snapshot.save(report_at(old_inventory(), DAY_ONE), tmp_path / "old.json.gz")
    new = snapshot.save(report_at(new_inventory(), DAY_ONE + timedelta(days=7)), tmp_path / "new.json.gz")
    return old, new


def test_both_snapshots_judged_by_todays_waivers_unless_as_recorded(tmp_path: Path) -> None:
    old, new = save_pair(tmp_path)
    in_a_year = utcnow().date() + timedelta(days=365)  # diff judges expiry against today
    argo = Waiver("RBAC-001", "GitOps controller", "platform", in_a_year, name="argo-admin")
    waived = diff_snapshots(str(old), str(new), waivers=WaiverPolicy((argo,)))
    assert keyed(waived.new_findings)[0] == ("RBAC-001", "argo-admin"), "a waived new finding is still new"
    assert waived.new_findings[0].new_status == "fail (waived)"
    assert waived.new_findings[0].to_dict()["waiver"]["reason"] == "GitOps controller"

    recorded = diff_snapshots(str(old), str(new), as_recorded=True)
    assert recorded.as_recorded and keyed(recorded.resolved) == [("RBAC-001", "ci-admin")]


def test_diff_notes_other_clusters_and_reversed_order() -> None:
    a = report_at(old_inventory(), DAY_ONE)
    other = f.make_inventory(server="https://elsewhere:6443", nodes=[f.node("x")])
    notes = diff_reports(report_at(other, DAY_ONE + timedelta(days=1)), a).notes
    assert any(n.startswith("comparing different clusters") for n in notes)
    assert any("OLD was collected after NEW" in n for n in notes)


def test_cli_diff(tmp_path: Path, capsys) -> None:
    old, new = save_pair(tmp_path)
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "New findings (2):" in out and "Overall:" in out
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"][RESOLVED] == 1
    assert main(["diff", str(old), str(tmp_path / "missing.json")]) == 1
    assert capsys.readouterr().err.startswith("k8saudit: error: cannot read")
    assert main(["diff", str(old), str(new), "--as-recorded", "--no-waivers"]) == 1
    assert "--as-recorded shows the waivers as they were saved" in capsys.readouterr().err


# -- visibility lost is not a fix -------------------------------------------------------------


# RBAC-001 and RBAC-002 read RoleBindings: without them each is one cluster-level unknown
BINDINGS_FORBIDDEN = {"rolebindings": "forbidden"}


def test_a_problem_whose_check_could_not_run_is_changed_to_unknown_not_resolved() -> None:
    old = report_at(old_inventory(), DAY_ONE)
    new = report_at(old_inventory(BINDINGS_FORBIDDEN), DAY_ONE + timedelta(days=1))
    diff = diff_reports(old, new)
    assert not any(c.finding.check_id.startswith("RBAC") for c in diff.resolved), "not fixed: unseen"
    ci_admin = next(c for c in diff.changed if keyed([c]) == [("RBAC-001", "ci-admin")])
    assert (ci_admin.old_status, ci_admin.new_status, ci_admin.unseen_side) == ("fail", "unknown", "new")
    assert ci_admin.unseen == "RoleBinding could not be read (forbidden)"
    assert ci_admin.to_dict()["unseen"] == {"side": "new", "reason": ci_admin.unseen}
    shown = "ClusterRoleBinding ci-admin: fail -> unknown — not visible in NEW: RoleBinding could not be read"
    assert shown in render_diff_text(diff)
    # the check's own cluster-level unknown is listed too, not dropped as "did not exist before"
    assert ("RBAC-001", "cluster") in keyed(diff.changed) and ("RBAC-002", "cluster") in keyed(diff.changed)
    # RBAC-002 passed on ci-admin: not "gone" either, but unknown now
    assert ("RBAC-002", "ci-admin") in keyed(diff.changed) and diff.passing_removed == 0


def test_a_problem_seen_again_is_changed_from_unknown_not_new() -> None:
    old = report_at(old_inventory(BINDINGS_FORBIDDEN), DAY_ONE)
    new = report_at(old_inventory(), DAY_ONE + timedelta(days=1))
    diff = diff_reports(old, new)
    assert not any(c.finding.check_id.startswith("RBAC") for c in diff.new_findings), "it was not visible"
    ci_admin = next(c for c in diff.changed if keyed([c]) == [("RBAC-001", "ci-admin")])
    assert (ci_admin.transition(), ci_admin.unseen_side) == ("unknown -> fail", "old")
    assert ci_admin.message.startswith("not visible in OLD: RoleBinding could not be read (forbidden); now: ")


def test_a_subject_of_a_kind_that_could_not_be_read_is_unknown_even_if_the_check_reads_no_input() -> None:
    """EXP-007 declares no inputs; its CronJob subjects vanish when CronJobs become forbidden."""
    job = f.cronjob("nightly", "ci")
    with only_checks("EXP-007"):
        old = report_at(f.make_inventory(cronjobs=[job]), DAY_ONE)
        new = report_at(f.make_inventory(cronjobs=[], coverage={"cronjobs": "forbidden"}), DAY_ONE)
    diff = diff_reports(old, new)
    assert keyed(diff.resolved) == []
    assert [(keyed([c]), c.transition(), c.unseen) for c in diff.changed] == [
        ([("EXP-007", "nightly")], "fail -> unknown", "CronJob could not be read (forbidden)"),
        ([("EXP-007", "cluster")], "absent -> unknown", ""),  # the check's own note of what it missed
    ]


# -- worst first -------------------------------------------------------------------------------


def test_lists_are_worst_first_by_the_problems_status() -> None:
    """Both HIGH (VER-003): a failure fixed ranks before a warning gone, as the failure it was."""
    old = report_at(cluster({"node-a": "v1.26.1", "node-b": "v1.25.4"}, []), DAY_ONE)
    new = report_at(cluster({"node-b": "v1.29.3"}, []), DAY_ONE)
    resolved = diff_reports(old, new).resolved
    assert [(c.finding.subject.name, c.old_status, c.new_status) for c in resolved] == [
        ("node-b", "fail", "pass"),
        ("node-a", "warn", None),
    ]


# -- score deltas add up -----------------------------------------------------------------------


def test_score_deltas_are_the_difference_of_the_scores_as_shown(diff) -> None:
    drifted = ScoreDelta("exposure", 63.9349, 63.9151, "D", "D")  # -0.0198 unrounded
    assert drifted.to_dict() == {
        "old": 63.93,
        "new": 63.92,
        "delta": -0.01,
        "old_grade": "D",
        "new_grade": "D",
    }
    crossed = ScoreDelta("rbac", 63.94, 63.96, "D", "D")  # prints 63.9 -> 64.0
    text = render_diff_text(replace(diff, areas={"exposure": drifted, "rbac": crossed}))
    assert "  exposure    D -> D  63.9 -> 63.9 (±0.0)\n" in text, "no sign nor arrow for nothing shown"
    assert "  rbac        D -> D  63.9 -> 64.0 (+0.1)  ▲\n" in text
