"""The documented JSON schema holds for the whole catalog: every check's evidence and metadata,
on the demo cluster and on a live scan of the replay server."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from k8saudit.cli import demo_snapshot_path, main
from k8saudit.render import report_dict
from k8saudit.snapshot import load
from tests.replay import ReplayServer

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs" / "report-schema.json").read_text())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def errors(validator: jsonschema.Draft202012Validator, data: object) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(data)][:5]


def test_demo_report_matches_the_schema(validator) -> None:
    snapshot = load(demo_snapshot_path())
    for report in (snapshot.report(), snapshot.report(as_recorded=True)):
        data = report_dict(report)
        assert len(data["checks"]) >= 3
        assert not errors(validator, data)


def test_live_scan_output_matches_the_schema(
    validator, replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "--quiet", "--format", "json"]) == 0
    assert not errors(validator, json.loads(capsys.readouterr().out))
