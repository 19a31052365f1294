"""Exports of a report for other tools: Markdown (tickets, wikis), SARIF 2.1.0 (code-scanning
dashboards) and JUnit XML (CI test reports). Headless: plain functions of a `Report`.

Cluster-supplied text (names, messages, annotation reasons) is passed through `safe_markdown` for
Markdown and `safe_text` elsewhere: escape sequences and control characters are shown, never
obeyed, and XML never receives a character XML 1.0 forbids.
"""

from __future__ import annotations

import hashlib
import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from k8saudit import __version__
from k8saudit.inventory import KINDS_BY_KEY
from k8saudit.model import Finding, Severity, Status, Subject
from k8saudit.registry import AREAS
from k8saudit.render import (
    report_dict,
    severity_of,
    sorted_problems,
    text_lines,
    version_notice,
    waived_findings,
    waiver_line,
)
from k8saudit.report import Report
from k8saudit.textsafe import dump_json, safe_json, safe_markdown, safe_text

FORMATS = ("text", "json", "markdown", "sarif", "junit")
PROJECT_URL = "https://github.com/k8saudit/k8saudit"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"


def chunks(report: Report, fmt: str) -> Iterator[bytes]:
    """The report in `fmt` (one of FORMATS), UTF-8, in pieces as they are made: at 100k pods a
    report is hundreds of MB of JSON, which a writer passes on as it comes instead of holding it
    whole (with the dicts it is made from)."""
    writers: dict[str, Callable[[Report], Iterator[bytes]]] = {
        "text": lambda r: _encoded(text_lines(r)),
        "json": lambda r: json_chunks(report_dict(r, findings=Streamed)),
        "markdown": lambda r: _encoded(markdown_lines(r)),
        "sarif": lambda r: json_chunks(sarif_log(r, results=Streamed)),
        "junit": junit_chunks,
    }
    return writers[fmt](report)


def render(report: Report, fmt: str) -> str:
    """The whole report in `fmt`, as one string."""
    return b"".join(chunks(report, fmt)).decode()


def _encoded(lines: Iterable[str]) -> Iterator[bytes]:
    return (line.encode() for line in lines)


class Streamed:
    """A list that `json_chunks` writes item by item, each as it is made. The items are plain
    JSON values (no Streamed inside)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def json_chunks(value: Any) -> Iterator[bytes]:
    """`value` as indented JSON, inert in a terminal (`safe_json`) whatever the nesting
    (`dump_json`), ending in a newline: the bytes orjson's OPT_INDENT_2 would write for it, with
    the `Streamed` lists in it written one item at a time."""
    yield from _json_parts(value, 0)
    yield b"\n"


def _json_parts(value: Any, depth: int) -> Iterator[bytes]:
    if isinstance(value, Streamed):  # plain items: nothing streamed to look for inside them
        yield from _json_container(b"[", b"]", ((b"", item) for item in value.items), depth, _whole)
    elif isinstance(value, dict) and _holds_stream(value):
        keyed = ((safe_json(orjson.dumps(key)) + b": ", item) for key, item in value.items())
        yield from _json_container(b"{", b"}", keyed, depth, _json_parts)
    elif isinstance(value, list) and _holds_stream(value):
        yield from _json_container(b"[", b"]", ((b"", item) for item in value), depth, _json_parts)
    else:
        yield from _whole(value, depth)


def _json_container(
    opening: bytes,
    closing: bytes,
    entries: Iterable[tuple[bytes, Any]],
    depth: int,
    write: Callable[[Any, int], Iterator[bytes]],
) -> Iterator[bytes]:
    """`{`/`[`, each entry on its own line one level in (`"key": ` before it in a dict), the
    closing bracket back at `depth`; `{}`/`[]` when empty, as orjson writes them."""
    inner = b"\n" + b"  " * (depth + 1)
    empty = True
    for prefix, item in entries:
        yield (opening if empty else b",") + inner + prefix
        empty = False
        yield from write(item, depth + 1)
    yield opening + closing if empty else b"\n" + b"  " * depth + closing


def _whole(value: Any, depth: int) -> Iterator[bytes]:
    yield _indented(value, depth)


def _indented(value: Any, depth: int) -> bytes:
    """`value` written whole, its lines after the first indented to sit at `depth` (a newline is
    always structure: inside JSON strings it is escaped)."""
    written = safe_json(dump_json(value, option=orjson.OPT_INDENT_2))
    return written.replace(b"\n", b"\n" + b"  " * depth) if depth else written


def _holds_stream(value: Any) -> bool:
    if isinstance(value, Streamed):
        return True
    if isinstance(value, dict):
        return any(_holds_stream(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_stream(item) for item in value)
    return False


def subject_path(subject: Subject) -> str:
    """ "Deployment/shop/api", "Node/node-1", "Cluster": a logical location."""
    if subject.is_cluster:
        return "Cluster"
    parts = (
        [subject.kind, subject.namespace, subject.name] if subject.namespace else [subject.kind, subject.name]
    )
    return "/".join(parts)


# -- Markdown -----------------------------------------------------------------------------------


def _md(value: object, limit: int = 300) -> str:
    return safe_markdown(value, limit)


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def markdown_lines(report: Report) -> Iterator[str]:
    """The Markdown report line by line, each ending in a newline (a big cluster's table of
    findings to fix is made as it is written)."""
    for line in _markdown_lines(report):
        yield line + "\n"


def _markdown_lines(report: Report) -> Iterator[str]:
    inv, scores, collection = report.inventory, report.scores, report.collection
    cluster = inv.cluster
    yield from [
        f"# k8saudit report: {_md(cluster.context, 120)}",
        "",
        "| | |",
        "|---|---|",
        f"| Cluster | {_md(cluster.context, 120)} ({_md(cluster.server, 200)}) |",
        f"| Kubernetes | {_md(cluster.git_version or 'version unknown', 60)}, provider {inv.provider.name} |",
        f"| Collected | {collection.finished_at:%Y-%m-%d %H:%M} UTC "
        f"by k8saudit {_md(collection.tool_version, 40)} |",
        f"| Overall | **{scores.grade}** {_score(scores.overall)}/100 |",
    ]
    notice = version_notice(report)
    if notice:
        yield from ["", f"> {_md(notice)}"]
    if report.as_recorded:
        yield from ["", "> Findings as recorded in the snapshot (not re-evaluated)."]
    yield from ["", "## Scores", "", "| Area | Grade | Score |", "|---|---|---|"]
    yield from (f"| {a} | {scores.areas[a].grade} | {_score(scores.areas[a].score)} |" for a in AREAS)
    fixes = scores.top_fixes(10)
    if fixes:
        yield from ["", "## Top fixes", "", "| Points | Check | Title | Subjects |", "|---|---|---|---|"]
        for check_id, points, count in fixes:
            yield f"| +{points:.1f} | {check_id} | {_md(report.checks[check_id].title)} | {count} |"
    problems = sorted_problems(report)
    yield from ["", f"## Findings to fix ({len(problems)})", ""]
    if problems:
        yield from ["| Severity | Status | Check | Subject | Message |", "|---|---|---|---|---|"]
        yield from (
            f"| {severity_of(report, f)} | {f.status.value} | {f.check_id} | {_md(f.subject, 160)} "
            f"| {_md(f.message, 400)} |"
            for f in problems
        )
    else:
        yield "No failing findings."
    yield from _markdown_waivers(report)
    gaps = report.coverage_gaps
    if gaps:
        yield from ["", f"## Coverage gaps ({len(gaps)})", "", "| Kind | State | Message |", "|---|---|---|"]
        for key, cov in gaps.items():
            kind = KINDS_BY_KEY[key].kind if key in KINDS_BY_KEY else key
            yield f"| {_md(kind)} | {cov.state} | {_md(cov.message)} |"
    if collection.notes:
        yield from ["", "## Notes", ""]
        yield from (f"- {_md(note)}" for note in collection.notes)


def _markdown_waivers(report: Report) -> list[str]:
    lines: list[str] = []
    waived = waived_findings(report)
    if waived:
        lines += [
            "",
            f"## Waived ({len(waived)}, excluded from the score)",
            "",
            "| Severity | Check | Subject | Reason | Owner | Expires | Ticket | Source |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in waived:
            w = f.waiver or {}
            lines.append(
                f"| {severity_of(report, f)} | {f.check_id} | {_md(f.subject, 160)} "
                f"| {_md(w.get('reason', ''))} "
                f"| {_md(w.get('owner') or '—')} | {w.get('expires') or '—'} | {_md(w.get('ticket') or '—')} "
                f"| {_md(w.get('source', ''))} |"
            )
    summary = report.waivers
    for title, uses in (("Expired waivers", summary.expired), ("Unused waivers", summary.unused)):
        if not uses:
            continue
        lines += ["", f"## {title} ({len(uses)})", "", "| Check | Subjects | Expires | Source | Note |"]
        lines.append("|---|---|---|---|---|")
        for use in uses:
            w = use.waiver
            if use.expired:
                note = f"would waive {use.would_waive} finding(s)"
            else:
                note = use.why_unused + (f"; {use.note}" if use.note else "")
            lines.append(
                f"| {_md(w.check)} | {_md(w.scope)} | {w.expires or '—'} | {_md(w.source)} | {_md(note)} |"
            )
    if summary.invalid:
        lines += ["", f"## Invalid waiver annotations ({len(summary.invalid)})", ""]
        lines += [f"- {_md(problem)}" for problem in summary.invalid]
    return lines


# -- SARIF 2.1.0 --------------------------------------------------------------------------------

_SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads `security-severity` (0-10) to rank security results.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}


def sarif_log(report: Report, results: Callable[[Iterator[Any]], Any] = list) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run, every check a rule, every fail/warn finding a result.

    Waived findings are results with an accepted external suppression (dashboards hide them and
    show the justification). Subjects are logical locations: a cluster has no source file.
    `results` makes the value of the results, as `report_dict`'s `findings` does.
    """
    rule_ids = list(report.checks)
    rule_index = {cid: i for i, cid in enumerate(rule_ids)}
    context = report.inventory.cluster.context
    problems = (
        _sarif_result(report, f, rule_index.get(f.check_id), context)
        for f in report.findings
        if f.status.is_problem
    )
    collection = report.collection
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "k8saudit",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": PROJECT_URL,
                        "rules": [_sarif_rule(report.checks[cid]) for cid in rule_ids],
                    }
                },
                "automationDetails": {"id": f"k8saudit/{safe_text(context, 120)}/"},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "startTimeUtc": _utc(collection.started_at),
                        "endTimeUtc": _utc(collection.finished_at),
                    }
                ],
                "results": results(problems),
                "properties": {
                    "cluster": {
                        "context": safe_text(context, 200),
                        "server": safe_text(report.inventory.cluster.server, 300),
                        "version": safe_text(report.inventory.cluster.git_version, 60),
                        "provider": report.inventory.provider.name,
                    },
                    "score": None if report.scores.overall is None else round(report.scores.overall, 2),
                    "grade": report.scores.grade,
                    "asRecorded": report.as_recorded,
                },
            }
        ],
    }


def _utc(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _sarif_rule(meta: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": meta.id,
        "name": meta.id.replace("-", ""),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.rationale},
        "help": {"text": meta.remediation, "markdown": meta.remediation},
        "defaultConfiguration": {"level": _SARIF_LEVEL[meta.severity]},
        "properties": {
            "tags": ["security", "kubernetes", meta.area],
            "precision": "high",
            "severity": meta.severity.value,
        },
    }
    if meta.references:
        rule["helpUri"] = meta.references[0]
    if meta.severity in _SECURITY_SEVERITY:
        rule["properties"]["security-severity"] = _SECURITY_SEVERITY[meta.severity]
    return rule


def _sarif_result(report: Report, finding: Finding, index: int | None, context: str) -> dict[str, Any]:
    meta = report.checks.get(finding.check_id)
    level = _SARIF_LEVEL[meta.severity] if meta else "warning"
    if finding.status is Status.WARN and level == "error":
        level = "warning"  # a warning is half a failure: it never outranks one
    subject = finding.subject
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "kind": "fail",
        "level": level,
        "message": {"text": safe_text(finding.message, 1000) or finding.status.value},
        "locations": [
            {
                "logicalLocations": [
                    {
                        "name": safe_text(subject.name or subject.kind, 300),
                        "fullyQualifiedName": safe_text(subject_path(subject), 600),
                        "kind": "resource",
                    }
                ]
            }
        ],
        "partialFingerprints": {"k8sauditFinding/v1": _fingerprint(context, finding)},
        "properties": {
            "status": finding.status.value,
            "severity": severity_of(report, finding),
            "subject": {k: safe_text(v, 300) for k, v in subject.to_dict().items()},
            "points": round(report.scores.points_for(finding), 3),
        },
    }
    if index is not None:
        result["ruleIndex"] = index
    if finding.waiver:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": safe_text(waiver_line(finding.waiver), 1000),
                "properties": {k: safe_text(v, 500) for k, v in finding.waiver.items() if v is not None},
            }
        ]
    return result


def _fingerprint(context: str, finding: Finding) -> str:
    """Stable across scans of the same cluster: a dashboard tracks the finding, not the run."""
    return hashlib.sha256("\x00".join((context, *finding.key)).encode()).hexdigest()


# -- JUnit XML ----------------------------------------------------------------------------------


_JUNIT_COUNTS = ("tests", "failures", "errors", "skipped")


def junit_chunks(report: Report) -> Iterator[bytes]:
    """One testsuite per area, one testcase per finding (check × subject), written case by case.

    fail/warn -> <failure>; error -> <error>; unknown, not-applicable and waived -> <skipped>
    (a waived finding is an accepted risk, so it must not fail the CI job).
    """
    context = safe_text(report.inventory.cluster.context, 200)
    timestamp = report.collection.finished_at.strftime("%Y-%m-%dT%H:%M:%S")
    by_area: dict[str, list[Finding]] = {area: [] for area in AREAS}
    for finding in report.findings:
        meta = report.checks.get(finding.check_id)
        by_area.setdefault(meta.area if meta else "unknown", []).append(finding)
    # The counts are attributes of the opening tags: worked out before anything is written.
    counts = {area: _junit_counts(findings) for area, findings in by_area.items() if findings}
    root = ET.Element("testsuites", name=f"k8saudit {context}")
    for key in _JUNIT_COUNTS:
        root.set(key, str(sum(area_counts[key] for area_counts in counts.values())))
    root.set("time", f"{report.collection.duration_s:.3f}")
    yield b'<?xml version="1.0" encoding="UTF-8"?>\n'
    if not counts:
        yield ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"
        return
    yield _opening_tag(root) + b"\n"
    for area, area_counts in counts.items():
        suite = ET.Element("testsuite", name=f"k8saudit.{area}", hostname=context, timestamp=timestamp)
        for key in _JUNIT_COUNTS:
            suite.set(key, str(area_counts[key]))
        suite.set("time", "0")
        yield b"  " + _opening_tag(suite) + b"\n"
        properties = ET.Element("properties")
        area_score = report.scores.areas.get(area)
        if area_score is not None:
            ET.SubElement(properties, "property", name="score", value=_score(area_score.score))
            ET.SubElement(properties, "property", name="grade", value=area_score.grade)
        cases = (_junit_case(report, finding, area) for finding in by_area[area])
        yield from _junit_elements(itertools.chain([properties], cases))
        yield b"  </testsuite>\n"
    yield b"</testsuites>\n"


def _opening_tag(element: ET.Element) -> bytes:
    written = ET.tostring(element, encoding="utf-8", xml_declaration=False, short_empty_elements=False)
    return written[: -len(f"</{element.tag}>")]


_BATCH = 1024  # elements written per call: ElementTree's set-up costs as much as a few elements


def _junit_elements(elements: Iterable[ET.Element]) -> Iterator[bytes]:
    """The elements of a testsuite, indented as `ET.indent` indents a whole document, a batch at
    a time: each batch is the children of a stand-in testsuite, whose own tags are cut off."""
    batch = ET.Element("batch")
    for element in elements:
        batch.append(element)
        if len(batch) == _BATCH:
            yield _batch_body(batch)
            batch = ET.Element("batch")
    if len(batch):
        yield _batch_body(batch)


def _batch_body(batch: ET.Element) -> bytes:
    ET.indent(batch, level=1)  # "\n" + 4 spaces before each child, "\n" + 2 after the last
    written = ET.tostring(batch, encoding="utf-8", xml_declaration=False)
    return written[len(b"<batch>\n") : -len(b"  </batch>")]


def _junit_counts(findings: list[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(_JUNIT_COUNTS, 0)
    counts["tests"] = len(findings)
    for finding in findings:
        outcome = _junit_outcome(finding)
        if outcome:
            counts[outcome] += 1
    return counts


def _junit_outcome(finding: Finding) -> str | None:
    if finding.waiver:
        return "skipped"
    if finding.status.is_problem:
        return "failures"
    if finding.status is Status.ERROR:
        return "errors"
    if finding.status in (Status.UNKNOWN, Status.NOT_APPLICABLE):
        return "skipped"
    return None


def _junit_case(report: Report, finding: Finding, area: str) -> ET.Element:
    meta = report.checks.get(finding.check_id)
    title = meta.title if meta else finding.check_id
    case = ET.Element(
        "testcase",
        classname=f"k8saudit.{area}.{finding.check_id}",
        name=safe_text(finding.subject, 300),
        time="0",
    )
    message = safe_text(finding.message, 1000)
    outcome = _junit_outcome(finding)
    if finding.waiver:  # skipped, with the waiver's reason
        ET.SubElement(case, "skipped", message=f"waived: {safe_text(waiver_line(finding.waiver), 500)}")
    elif outcome == "failures":
        failure = ET.SubElement(
            case, "failure", message=message, type=f"{severity_of(report, finding)}-{finding.status.value}"
        )
        remediation = meta.remediation if meta else ""
        failure.text = f"{finding.check_id} {title}\n{message}\n\nRemediation:\n{remediation}"
    elif outcome == "errors":
        ET.SubElement(case, "error", message=message, type="check-error")
    elif outcome == "skipped":
        ET.SubElement(case, "skipped", message=f"{finding.status.value}: {message}")
    return case
