"""Waivers: matching, globs, expiry, unused ones, annotation waivers, and where they apply."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from k8saudit import snapshot
from k8saudit.model import Finding, Status, Subject
from k8saudit.report import CollectionInfo, evaluate, rewaive
from k8saudit.waivers import (
    ANNOTATION,
    ANNOTATION_EXPIRES,
    ANNOTATION_REASON,
    ANNOTATION_WAIVE,
    SCOPE_CHECK,
    SCOPE_NAMESPACE,
    Waiver,
    WaiverPolicy,
    WaiverUse,
    apply_waivers,
    escape_glob,
    waiver_for_finding,
)
from tests import factories as f
from tests.check_subset import only_checks

TODAY = date(2026, 3, 1)
COLLECTED = datetime(2026, 2, 20, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _core_checks():
    """Exact findings and counts: the trio of checks these tests are written against."""
    with only_checks():
        yield


def waiver(check: str = "RBAC-001", **fields: object) -> Waiver:
    base: dict[str, object] = {
        "reason": "CI deployer, replaced by OPS-1",
        "owner": "platform",
        "expires": TODAY + timedelta(days=30),
    }
    base.update(fields)
    return Waiver(check, **base)  # type: ignore[arg-type]


def finding(check_id: str, status: Status, kind: str, namespace: str, name: str) -> Finding:
    return Finding(check_id, status, Subject(kind, namespace, name), "m")


def test_subject_patterns_and_check_globs() -> None:
    w = waiver("RBAC-*", kind="Deployment", namespace="shop-*", name="api-?")
    assert w.matches(finding("RBAC-007", Status.FAIL, "Deployment", "shop-eu", "api-1"))
    assert not w.matches(finding("VER-001", Status.FAIL, "Deployment", "shop-eu", "api-1")), "other area"
    assert not w.matches(finding("RBAC-007", Status.FAIL, "StatefulSet", "shop-eu", "api-1")), "other kind"
    assert not w.matches(finding("RBAC-007", Status.FAIL, "Deployment", "web", "api-1")), "other namespace"
    assert not w.matches(finding("RBAC-007", Status.FAIL, "Deployment", "shop-eu", "api-10")), "? is one char"
    cluster_scoped = waiver(namespace="")
    assert cluster_scoped.matches(finding("RBAC-001", Status.FAIL, "ClusterRoleBinding", "", "x"))
    assert not cluster_scoped.matches(finding("RBAC-001", Status.FAIL, "RoleBinding", "ns", "x"))
    assert waiver().matches(finding("RBAC-001", Status.FAIL, "Cluster", "", "cluster")), "defaults match all"


def test_exact_waiver_from_a_finding_matches_only_that_subject() -> None:
    odd = finding("RBAC-001", Status.FAIL, "ClusterRoleBinding", "", "ci-[prod]*")
    w = waiver_for_finding(odd, reason="r", owner="o", expires=TODAY)
    assert w.name == escape_glob("ci-[prod]*") and w.namespace == "" and w.kind == "ClusterRoleBinding"
    assert w.matches(odd)
    assert not w.matches(finding("RBAC-001", Status.FAIL, "ClusterRoleBinding", "", "ci-p-anything"))
    assert (
        waiver_for_finding(odd, reason="r", owner="o", expires=TODAY, whole_check=True).scope == "any subject"
    )


def test_only_problems_are_waived_and_every_waiver_is_accounted_for() -> None:
    findings = [
        finding("RBAC-001", Status.FAIL, "ClusterRoleBinding", "", "ci-admin"),
        finding("RBAC-001", Status.WARN, "ClusterRoleBinding", "", "ci-deploy"),
        finding("RBAC-001", Status.PASS, "ClusterRoleBinding", "", "ci-fixed"),
        finding("RBAC-001", Status.UNKNOWN, "ClusterRoleBinding", "", "ci-unknown"),
        finding("RBAC-002", Status.FAIL, "ClusterRoleBinding", "", "oncall"),
    ]
    active = waiver(name="ci-*", kind="ClusterRoleBinding")
    expired = waiver("RBAC-002", expires=TODAY - timedelta(days=1))
    last_day = waiver("RBAC-002", name="nothing-like-this", expires=TODAY)
    fixed = waiver(name="ci-fixed")
    ghost = waiver("RBAC-999")
    policy = WaiverPolicy((active, expired, last_day, fixed, ghost), annotations=False)
    summary = apply_waivers(findings, f.make_inventory(), policy, TODAY, ["RBAC-001", "RBAC-002"])

    assert [x.waived for x in findings] == [True, True, False, False, False]
    assert findings[0].waiver == active.marker()
    uses = {id(u.waiver): u for u in summary.uses}
    assert uses[id(active)].state == "active" and uses[id(active)].waived == 2
    assert uses[id(expired)].state == "expired" and uses[id(expired)].would_waive == 1
    assert uses[id(last_day)].state == "unused", "a waiver applies through its expiry day"
    assert uses[id(fixed)].state == "unused" and uses[id(fixed)].passing == 1
    assert "no check matches 'RBAC-999'" in uses[id(ghost)].note
    assert summary.waived == 2 and len(summary.expired) == 1 and len(summary.unused) == 3


def test_first_matching_waiver_wins_and_later_duplicates_are_unused() -> None:
    findings = [finding("RBAC-001", Status.FAIL, "ClusterRoleBinding", "", "ci-admin")]
    first, second = waiver(name="ci-*", reason="first"), waiver(reason="second")
    summary = apply_waivers(findings, f.make_inventory(), WaiverPolicy((first, second)), TODAY)
    assert findings[0].waiver and findings[0].waiver["reason"] == "first"
    assert [u.state for u in summary.uses] == ["active", "unused"]
    second_use = summary.uses[1]
    assert second_use.shadowed == 1 and "waived by an earlier waiver" in second_use.why_unused
    assert WaiverUse.from_dict(second_use.to_dict()).shadowed == 1, "kept in the snapshot"


def test_reapplying_replaces_stale_marks() -> None:
    stale = finding("RBAC-001", Status.FAIL, "ClusterRoleBinding", "", "ci-admin")
    stale.waiver = {"reason": "from an old run"}
    apply_waivers([stale], f.make_inventory(), WaiverPolicy(), TODAY)
    assert stale.waiver is None


def admin_inventory(annotations: dict[str, dict[str, str]] | None = None):
    """cluster-admin bound to a service account in each named binding: RBAC-001 fails on each."""
    bindings = [f.default_cluster_admin_binding()]
    for name in ("ci-admin", "argo-admin"):
        binding = f.clusterrolebinding(name, "cluster-admin", [f.subject("ServiceAccount", name, "ci")])
        if annotations and name in annotations:
            binding["metadata"]["annotations"] = annotations[name]
        bindings.append(binding)
    return f.make_inventory(clusterrolebindings=bindings, rolebindings=[])


def collection() -> CollectionInfo:
    return CollectionInfo(COLLECTED - timedelta(seconds=3), COLLECTED)


def rbac1(report) -> dict[str, Finding]:
    return {x.subject.name: x for x in report.findings if x.check_id == "RBAC-001"}


def test_annotation_waivers_apply_to_their_object_only() -> None:
    inv = admin_inventory(
        {"argo-admin": {ANNOTATION_WAIVE: "RBAC-001, RBAC-002", ANNOTATION_REASON: "GitOps controller"}}
    )
    report = evaluate(inv, collection(), today=TODAY)
    by_name = rbac1(report)
    assert by_name["argo-admin"].waived and not by_name["ci-admin"].waived
    mark = by_name["argo-admin"].waiver or {}
    assert mark["origin"] == ANNOTATION and mark["reason"] == "GitOps controller" and mark["expires"] is None
    assert mark["source"] == "annotation on ClusterRoleBinding argo-admin"
    states = {(u.waiver.check, u.state) for u in report.waivers.uses}
    assert states == {("RBAC-001", "active"), ("RBAC-002", "unused")}, "listed like file waivers"
    assert report.scores.checks["RBAC-001"].waived == 1

    ignored = evaluate(inv, collection(), waivers=WaiverPolicy(annotations=False), today=TODAY)
    assert not rbac1(ignored)["argo-admin"].waived and not ignored.waivers.uses


@pytest.mark.parametrize(
    ("annotations", "problem"),
    [
        ({ANNOTATION_WAIVE: "RBAC-001"}, "needs a k8saudit.io/waive-reason"),
        ({ANNOTATION_WAIVE: "rbac-001", ANNOTATION_REASON: "x"}, "must list check ids"),
        ({ANNOTATION_WAIVE: "RBAC-*", ANNOTATION_REASON: "x"}, "must list check ids"),
        ({ANNOTATION_WAIVE: " , ", ANNOTATION_REASON: "x"}, "must list check ids"),
        (
            {ANNOTATION_WAIVE: "RBAC-001", ANNOTATION_REASON: "x", ANNOTATION_EXPIRES: "soon"},
            "must be a date",
        ),
    ],
)
def test_bad_annotation_waivers_are_reported_and_ignored(annotations: dict[str, str], problem: str) -> None:
    report = evaluate(admin_inventory({"argo-admin": annotations}), collection(), today=TODAY)
    assert not rbac1(report)["argo-admin"].waived
    assert len(report.waivers.invalid) == 1
    assert (
        report.waivers.invalid[0].startswith("ClusterRoleBinding argo-admin: ")
        and problem in report.waivers.invalid[0]
    )


def test_expired_annotation_waiver_stops_applying() -> None:
    annotations = {ANNOTATION_WAIVE: "RBAC-001", ANNOTATION_REASON: "x", ANNOTATION_EXPIRES: "2026-02-01"}
    report = evaluate(admin_inventory({"argo-admin": annotations}), collection(), today=TODAY)
    assert not rbac1(report)["argo-admin"].waived
    assert [u.state for u in report.waivers.uses] == ["expired"]


def test_waived_findings_leave_the_score_and_count_as_fixed_points() -> None:
    inv = admin_inventory()
    plain = evaluate(inv, collection(), today=TODAY)
    waived = evaluate(inv, collection(), waivers=WaiverPolicy((waiver(name="ci-admin"),)), today=TODAY)
    assert plain.scores.checks["RBAC-001"].counts["fail"] == 2
    assert (
        waived.scores.checks["RBAC-001"].counts["fail"] == 1 and waived.scores.checks["RBAC-001"].waived == 1
    )
    assert waived.scores.areas["rbac"].score > plain.scores.areas["rbac"].score
    assert waived.scores.points_for(rbac1(waived)["ci-admin"]) == 0.0


def test_snapshot_reevaluates_with_todays_waivers_or_shows_them_as_recorded(tmp_path: Path) -> None:
    """Default: today's checks AND today's waivers. --as-recorded: the marks saved with it."""
    inv = admin_inventory()
    then = WaiverPolicy((waiver(name="ci-admin", reason="accepted then"),), source="old.toml")
    saved = snapshot.save(evaluate(inv, collection(), waivers=then, today=TODAY), tmp_path / "s.json.gz")
    loaded = snapshot.load(saved)

    recorded = loaded.report(as_recorded=True, waivers=WaiverPolicy((waiver(name="argo-*"),)))
    assert recorded.as_recorded
    assert {n for n, x in rbac1(recorded).items() if x.waived} == {"ci-admin"}, "current waivers ignored"
    assert recorded.waivers.source == "old.toml" and recorded.waivers.uses[0].waiver.reason == "accepted then"

    today = loaded.report(waivers=WaiverPolicy((waiver(name="argo-*", reason="accepted now"),)), today=TODAY)
    assert {n for n, x in rbac1(today).items() if x.waived} == {"argo-admin"}
    assert today.waivers.uses[0].waiver.reason == "accepted now"

    later = loaded.report(waivers=WaiverPolicy((waiver(name="argo-*"),)), today=TODAY + timedelta(days=90))
    assert not any(x.waived for x in rbac1(later).values()), "expiry is judged as of the day of review"
    assert later.waivers.expired[0].would_waive == 1


def test_waiver_round_trips_through_its_dict() -> None:
    w = waiver(
        "RBAC-*", kind="Deployment", namespace="a", name="b", ticket="https://t/1", source="f waiver #1"
    )
    assert Waiver.from_dict(w.to_dict()) == w


def test_file_order_wins_across_exact_and_glob_patterns() -> None:
    """The index groups waivers by exact namespace/name; the first in the file still wins."""
    target = finding("RBAC-001", Status.FAIL, "RoleBinding", "shop", "ci-admin")
    waivers = (
        waiver("RBAC-*", namespace="sh*", name="ci-*", reason="1 globs"),
        waiver(namespace="shop", name="ci-admin", reason="2 exact"),
        waiver(namespace="shop", reason="3 namespace"),
        waiver(name="ci-admin", reason="4 name"),
    )
    for rotation in range(len(waivers)):
        ordered = waivers[rotation:] + waivers[:rotation]
        target.waiver = None
        summary = apply_waivers([target], f.make_inventory(), WaiverPolicy(ordered), TODAY)
        assert target.waiver and target.waiver["reason"] == ordered[0].reason
        assert [u.state for u in summary.uses] == ["active", "unused", "unused", "unused"]
    other_namespace = finding("RBAC-001", Status.FAIL, "RoleBinding", "web", "ci-admin")
    apply_waivers([other_namespace], f.make_inventory(), WaiverPolicy(waivers), TODAY)
    assert other_namespace.waiver and other_namespace.waiver["reason"] == "4 name"


def test_waiver_from_a_finding_for_its_namespace_or_its_whole_check() -> None:
    pod = finding("RES-001", Status.FAIL, "Pod", "shop-[eu]", "api-1")
    ns = waiver_for_finding(pod, reason="r", owner="o", expires=TODAY, scope=SCOPE_NAMESPACE)
    assert (ns.kind, ns.namespace, ns.name) == ("*", escape_glob("shop-[eu]"), "*")
    assert ns.matches(finding("RES-001", Status.FAIL, "Deployment", "shop-[eu]", "other"))
    assert not ns.matches(finding("RES-001", Status.FAIL, "Pod", "shop-e", "api-1")), "brackets are literal"
    whole = waiver_for_finding(pod, reason="r", owner="o", expires=TODAY, scope=SCOPE_CHECK)
    assert whole.scope == "any subject" and whole.check == "RES-001"
    cluster_scoped = finding("RBAC-001", Status.FAIL, "ClusterRoleBinding", "", "x")
    with pytest.raises(ValueError, match="not in a namespace"):
        waiver_for_finding(cluster_scoped, reason="r", owner="o", expires=TODAY, scope=SCOPE_NAMESPACE)


def test_rewaive_applies_new_waivers_and_rescores_without_touching_the_old_report() -> None:
    inv = admin_inventory()
    before = evaluate(inv, collection(), today=TODAY)
    after = rewaive(before, WaiverPolicy((waiver(name="ci-admin"),)), TODAY)
    assert rbac1(after)["ci-admin"].waived and not rbac1(before)["ci-admin"].waived
    assert [x.key for x in after.findings] == [x.key for x in before.findings], "positions are kept"
    assert after.scores.areas["rbac"].score > before.scores.areas["rbac"].score
    assert [u.state for u in after.waivers.uses] == ["active"] and not before.waivers.uses
    fresh = evaluate(inv, collection(), waivers=WaiverPolicy((waiver(name="ci-admin"),)), today=TODAY)
    assert after.scores.to_dict() == fresh.scores.to_dict(), "the same as evaluating with the waiver"
