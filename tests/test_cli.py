"""The headless CLI: catalog, RBAC, demo, reports, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from k8saudit.access import reader_rules
from k8saudit.cli import main
from k8saudit.kinds import KINDS
from k8saudit.registry import load_checks


def test_checks_lists_the_catalog(capsys) -> None:
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    for check_id in load_checks():
        assert check_id in out
    assert main(["checks", "--format", "json"]) == 0
    assert {c["id"] for c in json.loads(capsys.readouterr().out)} == set(load_checks())


def test_rbac_role_covers_exactly_the_collected_kinds(capsys) -> None:
    assert main(["rbac"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["kind"] for d in docs] == ["ClusterRole", "ServiceAccount", "ClusterRoleBinding"]
    granted = {
        (g, r)
        for rule in docs[0]["rules"]
        if "resources" in rule
        for g in rule["apiGroups"]
        for r in rule["resources"]
    }
    for kind in KINDS:
        for gv in kind.versions:
            assert (gv.group, kind.resource) in granted
    verbs = {v for rule in docs[0]["rules"] for v in rule["verbs"]}
    assert verbs == {"get", "list", "create"}  # get: /version and discovery only
    objects = [r for r in docs[0]["rules"] if "resources" in r and "create" not in r["verbs"]]
    assert objects and all(r["verbs"] == ["list"] for r in objects), "a scan lists; it never gets by name"
    assert [r for r in docs[0]["rules"] if "create" in r["verbs"]] == [
        {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectrulesreviews"], "verbs": ["create"]}
    ]
    assert all("secrets" not in r.get("resources", []) for r in reader_rules(include_secrets=False))


def test_demo_prints_the_report_without_a_terminal(capsys) -> None:
    assert main(["demo", "--text"]) == 0
    out = capsys.readouterr().out
    assert "shop-prod" in out and "Overall:" in out and "RBAC-001" in out


def test_report_json_is_machine_readable(capsys) -> None:
    from k8saudit.cli import demo_snapshot_path

    assert main(["report", str(demo_snapshot_path()), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "k8saudit.report/1"
    assert data["cluster"]["context"] == "shop-prod"
    assert {"overall", "grade", "areas", "checks"} <= set(data["scores"])


def test_usage_errors_exit_1_with_one_line(capsys) -> None:
    for argv in (["frobnicate"], ["scan", "--page-size", "-3"], ["report"], ["checks", "--format", "xml"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.startswith("k8saudit: error:") and err.count("\n") == 1, err


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "k8saudit", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("k8saudit ")


def test_informational_findings_are_folded_in_the_text_report(capsys) -> None:
    assert main(["demo", "--text"]) == 0
    out = capsys.readouterr().out
    folded = out.split("Informational (not scored", 1)[1]
    assert "DNS-014" in folded
    assert " INFO " not in out.split("Informational (not scored", 1)[0]
