"""Pipeline gates: --fail-under exits 3, --fail-on exits 4, waived findings never trip them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from k8saudit import snapshot
from k8saudit.cli import main
from k8saudit.errors import EXIT_FAIL_ON, EXIT_FAIL_UNDER, EXIT_OK, EXIT_USAGE
from k8saudit.gates import Gates, gate_failures
from k8saudit.model import Severity
from k8saudit.report import CollectionInfo, evaluate
from tests import factories as f
from tests.check_subset import CORE, only_checks

COLLECTED = datetime(2026, 2, 20, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _core_checks():
    """Exact findings and counts: the trio of checks these tests are written against."""
    with only_checks():
        yield


@pytest.fixture
def failing_snapshot(tmp_path: Path) -> Path:
    """RBAC-001 (critical) fails on one binding; everything else passes."""
    inventory = f.make_inventory(
        nodes=[f.node("node-1", kubelet="v1.29.3")],
        clusterrolebindings=[
            f.default_cluster_admin_binding(),
            f.clusterrolebinding(
                "ci-admin", "cluster-admin", [f.subject("ServiceAccount", "deployer", "ci")]
            ),
        ],
        rolebindings=[],
    )
    report = evaluate(inventory, CollectionInfo(COLLECTED - timedelta(seconds=1), COLLECTED))
    assert report.scores.overall is not None and 0 < report.scores.overall < 100
    return snapshot.save(report, tmp_path / "s.json.gz")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fail_under(failing_snapshot: Path, capsys) -> None:
    code, out, err = run(capsys, "report", str(failing_snapshot), "--fail-under", "99.5")
    assert code == EXIT_FAIL_UNDER == 3 and "Overall:" in out, "the report is still printed"
    assert err.startswith("k8saudit: gate failed: overall score ") and err.endswith(
        "is under 99.5 (--fail-under)\n"
    )
    assert run(capsys, "report", str(failing_snapshot), "--fail-under", "10")[0] == EXIT_OK


def test_fail_on_counts_severity_and_worse(failing_snapshot: Path, capsys) -> None:
    code, _, err = run(capsys, "report", str(failing_snapshot), "--fail-on", "high")
    assert code == EXIT_FAIL_ON == 4
    assert err == "k8saudit: gate failed: unwaived findings at or above high: 1 critical (--fail-on)\n"
    assert run(capsys, "report", str(failing_snapshot), "--fail-on", "critical")[0] == EXIT_FAIL_ON


def test_both_unmet_exits_4_and_names_both(failing_snapshot: Path, capsys) -> None:
    code, _, err = run(capsys, "report", str(failing_snapshot), "--fail-on", "low", "--fail-under", "100")
    assert code == EXIT_FAIL_ON and err.count("gate failed") == 2


def test_waived_findings_do_not_trip_fail_on(failing_snapshot: Path, tmp_path: Path, capsys) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[[waiver]]\ncheck = "RBAC-001"\nname = "ci-admin"\nreason = "migrating to a scoped role"\n'
        f'owner = "platform"\nexpires = {date.today() + timedelta(days=30)}\n'
    )
    waived = ["report", str(failing_snapshot), "--waivers", str(policy)]
    code, out, err = run(capsys, *waived, "--fail-on", "info", "--fail-under", "100")
    assert (code, err) == (EXIT_OK, ""), "waived: out of the score and out of the gate"
    assert "Waived (1 finding" in out
    assert run(capsys, *waived, "--no-waivers", "--fail-on", "info")[0] == EXIT_FAIL_ON


def test_gates_keep_machine_output_clean(failing_snapshot: Path, capsys) -> None:
    code, out, err = run(capsys, "report", str(failing_snapshot), "--format", "json", "--fail-on", "high")
    assert code == EXIT_FAIL_ON and json.loads(out)["schema"] == "k8saudit.report/1" and "gate failed" in err


def test_the_score_gate_judges_the_score_every_report_shows() -> None:
    """51.75 is shown as 51.8: it passes --fail-under 51.8 and fails 51.9 saying 51.8 (it said
    "overall score 51.8 is under 51.8")."""
    assert gate_failures(51.75, {}, Gates(fail_under=51.8)) == []
    [failure] = gate_failures(51.75, {}, Gates(fail_under=51.9))
    assert failure.message == "overall score 51.8 is under 51.9 (--fail-under)"


def test_nothing_scored_fails_the_score_gate() -> None:
    failures = gate_failures(None, {}, Gates(fail_under=0))
    assert [(x.exit_code, x.message) for x in failures] == [(3, "nothing could be scored (--fail-under)")]
    assert gate_failures(None, {}, Gates(fail_on=Severity.INFO)) == []


def test_a_report_that_read_nothing_fails_the_score_gate(tmp_path: Path, capsys) -> None:
    """Every list forbidden: the checks that need no object still score, which is no score."""
    inventory = f.make_inventory(nodes=[], clusterrolebindings=[], rolebindings=[])
    for coverage in inventory.coverage.values():
        coverage.state = "forbidden"
    with only_checks(*CORE, "EXP-010"):  # EXP-010 judges the connection, no object
        report = evaluate(inventory, CollectionInfo(COLLECTED - timedelta(seconds=1), COLLECTED))
        assert report.scores.overall is not None, "a check that needs no object scored"
        locked = snapshot.save(report, tmp_path / "locked.json.gz")
        code, _, err = run(capsys, "report", str(locked), "--fail-under", "1")
    assert code == EXIT_FAIL_UNDER
    assert err == "k8saudit: gate failed: no kind could be read, so nothing was scored (--fail-under)\n"


@pytest.mark.parametrize("argv", [["--fail-under", "101"], ["--fail-under", "x"], ["--fail-on", "severe"]])
def test_bad_gate_values_are_usage_errors(failing_snapshot: Path, capsys, argv: list[str]) -> None:
    code, _, err = run(capsys, "report", str(failing_snapshot), *argv)
    assert code == EXIT_USAGE and err.startswith("k8saudit: error:") and err.count("\n") == 1


def test_live_scan_applies_the_policy_file_and_gates(
    replay_server, tmp_path: Path, capsys, monkeypatch
) -> None:
    """The policy file in the working directory is found and used by a live scan; --keep prunes."""
    monkeypatch.chdir(tmp_path)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig", context="shop")
    scan = [
        "scan",
        "--kubeconfig",
        str(kubeconfig),
        "--quiet",
        "--no-save",
        "--format",
        "json",
        "--fail-on",
        "critical",
    ]
    assert main(scan) == EXIT_FAIL_ON
    findings = json.loads(capsys.readouterr().out)["findings"]
    critical = [x for x in findings if x["severity"] == "critical" and x["status"] in ("fail", "warn")]
    assert critical
    lines = []
    for x in critical:
        lines += [
            "[[waiver]]",
            f'check = "{x["check_id"]}"',
            f'kind = "{x["subject"]["kind"]}"',
            f'name = "{x["subject"]["name"]}"',
            'reason = "accepted for the test"',
            'owner = "sre"',
            f"expires = {date.today() + timedelta(days=7)}",
        ]
    (tmp_path / ".k8saudit.toml").write_text("\n".join(lines) + "\n")
    assert main(scan) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["waivers"]["source"] == ".k8saudit.toml" and data["waivers"]["waived_findings"] == len(
        critical
    )

    import k8saudit.report

    for day in (1, 2, 3):
        monkeypatch.setattr(
            k8saudit.report, "utcnow", lambda day=day: datetime(2026, 3, day, 8, 0, tzinfo=UTC)
        )
        assert main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", "--keep", "2"]) == EXIT_OK
    assert sorted(p.name for p in tmp_path.glob("k8saudit-shop-*.json.gz")) == [
        "k8saudit-shop-20260302-080000.json.gz",
        "k8saudit-shop-20260303-080000.json.gz",
    ]
    assert "Removed old snapshot k8saudit-shop-20260301-080000.json.gz" in capsys.readouterr().err


def test_prune_keeps_the_newest_of_this_context_only(tmp_path: Path) -> None:
    from k8saudit.cli import prune_snapshots

    names = [f"k8saudit-prod-202601{d:02d}-080000.json.gz" for d in (1, 2, 3, 4)]
    names += ["k8saudit-prod-eu-20260101-080000.json.gz", "k8saudit-prod-notes.json.gz", "mine.json.gz"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    removed = prune_snapshots(tmp_path, "prod", 2).removed
    assert sorted(p.name for p in removed) == names[:2]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])
