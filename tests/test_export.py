"""Every output format, validated the way its consumer reads it: JSON against the documented
schema, SARIF against the 2.1.0 required structure, JUnit through an XML parser, Markdown with
cluster text escaped."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jsonschema
import orjson
import pytest

from k8saudit import __version__, export, snapshot
from k8saudit.cli import demo_snapshot_path, main
from k8saudit.export import Streamed, chunks, json_chunks, render, sarif_log
from k8saudit.render import report_dict, waived_findings
from k8saudit.report import CollectionInfo, Report, evaluate
from k8saudit.textsafe import dump_json, safe_json
from k8saudit.waivers import ANNOTATION_REASON, ANNOTATION_WAIVE, Waiver, WaiverPolicy
from tests import factories as f
from tests.check_subset import only_checks

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "report-schema.json"
COLLECTED = datetime(2026, 2, 20, 8, 0, tzinfo=UTC)
TODAY = date(2026, 3, 1)
# A user name is not validated by the API server: anything can reach a message.
HOSTILE = "mallory\x1b]52;c;QUFBQQ==\x07|**bold**<img src=x onerror=alert(1)>&`\u202egnp.exe"


@pytest.fixture(scope="module", autouse=True)
def _core_checks():
    """Exact findings and counts: the trio of checks these tests are written against."""
    with only_checks():
        yield


def hostile_report() -> Report:
    """Waived, failing, unknown and passing findings; cluster text with escapes and markup."""
    argo = f.clusterrolebinding("argo-admin", "cluster-admin", [f.subject("ServiceAccount", "argo", "ci")])
    argo["metadata"]["annotations"] = {ANNOTATION_WAIVE: "RBAC-001", ANNOTATION_REASON: f"GitOps {HOSTILE}"}
    inventory = f.make_inventory(
        clusterrolebindings=[
            f.default_cluster_admin_binding(),
            argo,
            f.clusterrolebinding("ci-admin", "cluster-admin", [f.subject("ServiceAccount", "jenkins", "ci")]),
            f.clusterrolebinding("oncall", "cluster-admin", [f.subject("User", HOSTILE)]),
        ],
        rolebindings=[],
        coverage={"nodes": "forbidden"},
    )
    waivers = WaiverPolicy(
        (
            Waiver("RBAC-002", "expired acceptance", "sre", TODAY - timedelta(days=3), name="oncall"),
            Waiver(
                "VER-*", "nothing to waive", "sre", TODAY + timedelta(days=3), ticket="https://t.example/1"
            ),
        )
    )
    return evaluate(
        inventory, CollectionInfo(COLLECTED - timedelta(seconds=2), COLLECTED), waivers=waivers, today=TODAY
    )


@pytest.fixture(scope="module")
def report() -> Report:
    return hostile_report()


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def assert_valid(validator: jsonschema.Draft202012Validator, data: object) -> None:
    errors = [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(data)]
    assert not errors, errors[:5]


def test_the_report_fixture_has_every_case(report: Report) -> None:
    statuses = {x.status.value for x in report.findings}
    assert {"pass", "fail", "unknown"} <= statuses
    assert waived_findings(report) and report.waivers.expired and report.waivers.unused
    assert report.coverage_gaps


def test_json_matches_the_documented_schema(report: Report, validator, tmp_path: Path) -> None:
    assert_valid(validator, report_dict(report))
    saved = snapshot.load(snapshot.save(report, tmp_path / "s.json"))
    assert_valid(validator, report_dict(saved.report(as_recorded=True)))
    assert_valid(validator, report_dict(snapshot.load(demo_snapshot_path()).report()))


def test_json_schema_is_strict_enough_to_catch_drift(report: Report, validator) -> None:
    data = report_dict(report)
    data["findings"][0]["stauts"] = "fail"
    assert list(validator.iter_errors(data)), "an unknown key in a finding is caught"
    data = report_dict(report)
    data["findings"][0]["status"] = "failed"
    assert list(validator.iter_errors(data))
    data = report_dict(report)
    del data["waivers"]["waivers"][0]["state"]
    assert list(validator.iter_errors(data))


def test_cli_json_output_validates(validator, capsys) -> None:
    assert main(["report", str(demo_snapshot_path()), "--format", "json", "--no-waivers"]) == 0
    assert_valid(validator, json.loads(capsys.readouterr().out))


def test_version_mismatch_is_said_in_text_and_json(report: Report, tmp_path: Path, capsys) -> None:
    path = snapshot.save(report, tmp_path / "old.json")
    data = json.loads(path.read_text())
    data["collection"]["tool_version"] = "0.0.9"
    path.write_text(json.dumps(data))
    assert main(["report", str(path), "--no-waivers"]) == 0
    assert (
        f"Snapshot written by k8saudit 0.0.9; findings re-evaluated with the checks of k8saudit {__version__}"
        in (capsys.readouterr().out)
    )
    assert main(["report", str(path), "--as-recorded"]) == 0
    assert (
        f"Findings as recorded by k8saudit 0.0.9; this is k8saudit {__version__}." in capsys.readouterr().out
    )
    assert main(["report", str(path), "--format", "json", "--no-waivers"]) == 0
    assert json.loads(capsys.readouterr().out)["version_mismatch"] == {
        "recorded": "0.0.9",
        "running": __version__,
    }
    snapshot.save(report, path)
    assert main(["report", str(path), "--format", "json", "--no-waivers"]) == 0
    assert json.loads(capsys.readouterr().out)["version_mismatch"] is None


# -- Markdown -----------------------------------------------------------------------------------


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_escapes_every_cluster_string(report: Report) -> None:
    md = render(report, "markdown")
    assert "\x1b" not in md and "\x07" not in md and "\u202e" not in md
    assert not re.search(r"(?<!\\)<img", md) and "**bold**" not in md
    assert r"\<img" in md and r"\*\*bold\*\*" in md and r"\x1b" in md and r"\u202e" in md
    tables = re.findall(r"((?:^\|.*\n)+)", md, re.M)
    for table in tables:
        widths = {unescaped_pipes(row) for row in table.splitlines()}
        assert len(widths) == 1, f"a cell broke out of its table:\n{table}"
    for section in ("## Findings to fix", "## Waived (1, excluded from the score)", "## Expired waivers (1)"):
        assert section in md
    assert "## Unused waivers" in md and "## Coverage gaps" in md


# -- SARIF --------------------------------------------------------------------------------------

MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
# The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) that k8saudit's output uses: every
# required property and every enumeration on the way from the log to a suppression.
SARIF_REQUIRED = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "informationUri": {"type": "string", "format": "uri"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": MESSAGE,
                                                "fullDescription": MESSAGE,
                                                "help": MESSAGE,
                                                "helpUri": {"type": "string", "format": "uri"},
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {
                                                        "level": {
                                                            "enum": ["none", "note", "warning", "error"]
                                                        }
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "invocations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["executionSuccessful"],
                            "properties": {"executionSuccessful": {"type": "boolean"}},
                        },
                    },
                    "automationDetails": {"type": "object", "properties": {"id": {"type": "string"}}},
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "kind": {
                                    "enum": [
                                        "notApplicable",
                                        "pass",
                                        "fail",
                                        "review",
                                        "open",
                                        "informational",
                                    ]
                                },
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": MESSAGE,
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "logicalLocations": {
                                                "type": "array",
                                                "minItems": 1,
                                                "items": {
                                                    "type": "object",
                                                    "properties": {
                                                        "name": {"type": "string"},
                                                        "fullyQualifiedName": {"type": "string"},
                                                        "kind": {"type": "string"},
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                                "partialFingerprints": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                                "suppressions": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["kind"],
                                        "properties": {
                                            "kind": {"enum": ["inSource", "external"]},
                                            "status": {"enum": ["accepted", "underReview", "rejected"]},
                                            "justification": {"type": "string"},
                                        },
                                    },
                                },
                                "properties": {"type": "object"},
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_has_the_required_2_1_0_structure(report: Report) -> None:
    log = json.loads(render(report, "sarif"))
    validator = jsonschema.Draft202012Validator(SARIF_REQUIRED, format_checker=jsonschema.FormatChecker())
    assert not [e.message for e in validator.iter_errors(log)]
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(report.checks), "every check is a rule"
    problems = [x for x in report.findings if x.status.is_problem]
    assert len(run["results"]) == len(problems) and problems
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["logicalLocations"][0]
        assert location["kind"] == "resource" and location["fullyQualifiedName"].startswith(
            "ClusterRoleBinding/"
        )
    waived = [r for r in run["results"] if "suppressions" in r]
    assert len(waived) == 1 and waived[0]["suppressions"][0]["status"] == "accepted"
    assert "GitOps" in waived[0]["suppressions"][0]["justification"]
    assert "\x1b" not in json.dumps(log, ensure_ascii=False), "escapes shown, never passed on"
    fingerprints = {r["partialFingerprints"]["k8sauditFinding/v1"] for r in run["results"]}
    assert len(fingerprints) == len(run["results"])
    again = sarif_log(hostile_report())["runs"][0]["results"]
    assert {r["partialFingerprints"]["k8sauditFinding/v1"] for r in again} == fingerprints, (
        "stable across runs"
    )


def test_sarif_levels_follow_severity(report: Report) -> None:
    run = sarif_log(report)["runs"][0]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["RBAC-001"] == "error"  # critical
    by_id = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert by_id["RBAC-001"]["properties"]["security-severity"] == "9.5"


# -- JUnit --------------------------------------------------------------------------------------


def test_junit_parses_and_counts_every_finding(report: Report) -> None:
    root = ET.fromstring(render(report, "junit").encode())
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(report.findings) == int(root.get("tests", "-1"))
    problems = [x for x in report.findings if x.status.is_problem and not x.waived]
    skipped = [x for x in report.findings if x.waived or x.status.value in ("unknown", "not-applicable")]
    assert int(root.get("failures", "-1")) == len(problems) == len(root.findall(".//failure"))
    assert int(root.get("skipped", "-1")) == len(skipped) == len(root.findall(".//skipped"))
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests", "-1")) == len(suite.findall("testcase"))
        assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
    waived = [
        c
        for c in cases
        if (s := c.find("skipped")) is not None and s.get("message", "").startswith("waived:")
    ]
    assert len(waived) == 1
    failure = root.find(".//testcase[@classname='k8saudit.rbac.RBAC-002']/failure")
    assert (
        failure is not None
        and "mallory" in failure.get("message", "")
        and "\\x1b" in failure.get("message", "")
    )
    assert "Remediation:" in (failure.text or "")


def test_every_format_through_the_cli(tmp_path: Path, capsys) -> None:
    path = snapshot.save(hostile_report(), tmp_path / "s.json.gz")
    for fmt in ("text", "json", "markdown", "sarif", "junit"):
        assert main(["report", str(path), "--format", fmt, "--no-waivers"]) == 0, fmt
        out = capsys.readouterr().out
        assert out and "\x1b" not in out, fmt


def test_text_report_lists_waived_expired_and_unused(report: Report) -> None:
    text = render(report, "text")
    waived = text.split("Waived (1 finding, excluded from the score):\n", 1)[1]
    assert waived.startswith("  CRITICAL fail RBAC-001  ClusterRoleBinding argo-admin: GitOps mallory\\x1b")
    assert "waived by annotation on ClusterRoleBinding argo-admin" in waived
    expired = (
        "Expired waivers (1, no longer applied):\n  RBAC-002  * */oncall: expired 2026-02-26, would waive 1"
    )
    assert expired + " finding\n" in text
    assert "Unused waivers (1, waive nothing):\n  VER-*     any subject: matches no failing finding\n" in text
    assert "Waivers: no waivers file; annotation waivers honoured; expiry judged as of 2026-03-01." in text
    assert "\x1b" not in text


# -- streaming ------------------------------------------------------------------------------------


def _whole_json(data: object) -> bytes:
    return safe_json(dump_json(data, option=orjson.OPT_INDENT_2)) + b"\n"


@pytest.mark.parametrize(
    "shape",
    [
        {"a": 1, "items": [], "b": {"c": [1, {"d": "e"}]}},
        {"runs": [{"tool": {"x": []}, "results": [{"k": [1, 2]}, {}, []], "after": {}}], "end": None},
        {"items": [{"nested": {"deep": [{"x": "line\nbreak \u001b[31m"}]}}]},
        {"empty": {}, "items": ["a"]},
        [{"items": [1]}, 2],
    ],
)
def test_streamed_json_is_byte_for_byte_the_whole_document(shape: object) -> None:
    def streamed(value: object) -> object:
        if isinstance(value, dict):
            return {
                k: Streamed(iter(v)) if k in ("items", "results") else streamed(v) for k, v in value.items()
            }
        return [streamed(v) for v in value] if isinstance(value, list) else value

    assert b"".join(json_chunks(streamed(shape))) == _whole_json(shape)


def test_json_and_sarif_are_written_a_finding_at_a_time(report: Report) -> None:
    pieces = list(chunks(report, "json"))
    assert len(pieces) > len(report.findings), "one piece (at least) per finding, never the whole"
    assert b"".join(pieces) == _whole_json(report_dict(report))
    assert b"".join(chunks(report, "sarif")) == _whole_json(sarif_log(report))


def test_junit_is_indented_as_a_whole_document_would_be(report: Report, monkeypatch) -> None:
    monkeypatch.setattr(export, "_BATCH", 2)  # test cases are written two at a time
    written = render(report, "junit")
    pieces = list(chunks(report, "junit"))
    assert len(pieces) > len(report.findings) / 2
    root = ET.fromstring(written.encode())
    ET.indent(root)
    assert (
        written == '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    )
