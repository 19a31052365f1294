"""Headless renderers: the report as plain text (terminals, logs) and as JSON (machines).

Every string that came from the cluster goes through `safe_text`: escape sequences and bidi
controls in object names or messages are shown, never obeyed by the terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from k8saudit import __version__
from k8saudit.inventory import KINDS_BY_KEY
from k8saudit.model import Finding, Severity, Status
from k8saudit.registry import AREAS
from k8saudit.report import Report
from k8saudit.textsafe import safe_text

REPORT_SCHEMA = "k8saudit.report/1"
_BAR_WIDTH = 20


def _severity(report: Report, finding: Finding) -> Severity:
    meta = report.checks.get(finding.check_id)
    return meta.severity if meta else Severity.INFO


def worst_first(report: Report, findings: list[Finding]) -> list[Finding]:
    """`findings` by severity, then status, then check and subject."""
    checks = report.checks
    return sorted(
        findings,
        key=lambda f: (
            checks[f.check_id].severity.rank if f.check_id in checks else 9,
            f.status.rank,
            f.check_id,
            f.subject,
        ),
    )


def sorted_problems(report: Report) -> list[Finding]:
    """Failing and warning findings that no waiver covers, worst first."""
    return worst_first(report, [f for f in report.findings if f.status.is_problem and not f.waived])


def waived_findings(report: Report) -> list[Finding]:
    """Findings a waiver covers (accepted risks), worst first."""
    return worst_first(report, [f for f in report.findings if f.waived])


def version_notice(report: Report) -> str | None:
    """One line when the snapshot was written by another k8saudit than this one."""
    recorded = safe_text(report.collection.tool_version or "an unknown version", 40)
    if not report.recorded_by_other_version:
        return None
    if report.as_recorded:
        return f"Findings as recorded by k8saudit {recorded}; this is k8saudit {__version__}."
    return (
        f"Snapshot written by k8saudit {recorded}; findings re-evaluated with the checks of "
        f"k8saudit {__version__} (--as-recorded shows them as saved)."
    )


def version_mismatch(report: Report) -> dict[str, str] | None:
    if not report.recorded_by_other_version:
        return None
    return {"recorded": report.collection.tool_version, "running": __version__}


def severity_of(report: Report, finding: Finding) -> str:
    meta = report.checks.get(finding.check_id)
    return meta.severity.value if meta else "unknown"


def waiver_line(waiver: dict[str, Any]) -> str:
    """ "reason (owner, until 2026-06-30, ticket)" from a `Finding.waiver` mark."""
    details = [str(waiver.get("owner") or "no owner")]
    details.append(f"until {waiver['expires']}" if waiver.get("expires") else "no expiry")
    if waiver.get("ticket"):
        details.append(str(waiver["ticket"]))
    return f"{waiver.get('reason', '')} ({', '.join(details)})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _from(source: str) -> str:
    return f" — {safe_text(source, 200)}" if source else ""


def waiver_lines(report: Report) -> list[str]:
    """The text report's waiver sections: waived findings, expired, unused and invalid waivers."""
    summary = report.waivers
    lines: list[str] = []
    waived = waived_findings(report)
    if waived:
        lines += ["", f"Waived ({_count(len(waived), 'finding')}, excluded from the score):"]
        for f in waived:
            lines.append(
                f"  {severity_of(report, f).upper():<8} {f.status.value:<4} {f.check_id:<9} "
                f"{safe_text(f.subject, 120)}: {safe_text(waiver_line(f.waiver or {}), 300)}"
            )
            lines.append(f"      waived by {safe_text((f.waiver or {}).get('source', ''), 200)}")
    if summary.expired:
        lines += ["", f"Expired waivers ({len(summary.expired)}, no longer applied):"]
        for use in summary.expired:
            w = use.waiver
            lines.append(
                f"  {safe_text(w.check, 40):<9} {safe_text(w.scope, 120)}: expired {w.expires}, "
                f"would waive {_count(use.would_waive, 'finding')}{_from(w.source)}"
            )
    if summary.unused:
        lines += ["", f"Unused waivers ({len(summary.unused)}, waive nothing):"]
        for use in summary.unused:
            w = use.waiver
            why = use.why_unused + (f"; {safe_text(use.note, 300)}" if use.note else "")
            lines.append(f"  {safe_text(w.check, 40):<9} {safe_text(w.scope, 120)}: {why}{_from(w.source)}")
    if summary.invalid:
        lines += ["", f"Invalid waiver annotations ({len(summary.invalid)}, ignored):"]
        lines += [f"  {safe_text(problem, 300)}" for problem in summary.invalid]
    return lines


def _bar(score: float | None) -> str:
    if score is None:
        return "·" * _BAR_WIDTH
    filled = round(score / 100 * _BAR_WIDTH)
    return "█" * filled + "░" * (_BAR_WIDTH - filled)


def _score(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.1f}"


def header_lines(report: Report) -> list[str]:
    inv = report.inventory
    cluster = inv.cluster
    collection = report.collection
    lines = [
        f"k8saudit {__version__} — context {safe_text(cluster.context)} ({safe_text(cluster.server)})",
        f"Kubernetes {safe_text(cluster.git_version or 'version unknown')}, provider {inv.provider.name}, "
        f"{len(inv.items('nodes'))} nodes, {len(inv.items('pods'))} pods",
        f"Collected {collection.finished_at:%Y-%m-%d %H:%M UTC} in {collection.duration_s:.1f}s"
        + (
            f" by k8saudit {safe_text(collection.tool_version)}"
            if collection.tool_version != __version__
            else ""
        ),
    ]
    if report.as_recorded:
        lines.append(
            "Findings shown as recorded in the snapshot (not re-evaluated), with their waivers then."
        )
    notice = version_notice(report)
    if notice:
        lines.append(notice)
    return lines


def text_lines(report: Report) -> Iterator[str]:
    """The text report line by line, each ending in a newline: a big cluster's report is tens of
    MB, which a writer can pass on as it comes instead of holding it whole (and twice, joined)."""
    for line in _text_lines(report):
        yield line + "\n"


def _text_lines(report: Report) -> Iterator[str]:
    scores = report.scores
    yield from header_lines(report)
    yield ""
    yield f"Overall: {scores.grade}  {_score(scores.overall).strip()}/100"
    for area in AREAS:
        a = scores.areas[area]
        yield f"  {area:<11} {a.grade}  {_score(a.score)}  {_bar(a.score)}"

    gaps = report.coverage_gaps
    if gaps:
        yield ""
        yield f"Coverage gaps ({len(gaps)} kinds could not be read; their checks are 'unknown'):"
        for key, cov in gaps.items():
            yield f"  {KINDS_BY_KEY[key].kind:<32} {cov.state:<10} {safe_text(cov.message, 200)}"

    fixes = scores.top_fixes(5)
    if fixes:
        yield ""
        yield "Top fixes (points gained):"
        for check_id, points, count in fixes:
            title = report.checks[check_id].title
            yield f"  +{points:5.1f}  {check_id:<9} {title} ({count} subject{'s' if count != 1 else ''})"

    problems = sorted_problems(report)
    # Informational checks weigh nothing in the score and can name every workload: fold them.
    scored = [f for f in problems if _severity(report, f) is not Severity.INFO]
    yield ""
    yield f"Findings to fix ({len(scored)}):" if scored else "No failing findings."
    for f in scored:
        subject, message = safe_text(f.subject, 120), safe_text(f.message, 600)
        severity = _severity(report, f).value.upper()
        yield f"  {severity:<8} {f.status.value:<4} {f.check_id:<9} {subject}: {message}"
    informational = Counter(f.check_id for f in problems if _severity(report, f) is Severity.INFO)
    if informational:
        yield ""
        yield "Informational (not scored; see --format json or the UI for the subjects):"
        for check_id, count in sorted(informational.items()):
            meta = report.checks.get(check_id)  # a recorded finding may name a check not in this version
            title = meta.title if meta else "a check this version of k8saudit does not have"
            yield f"  {check_id:<9} {count:>5} subject(s): {title}"

    counts = {s: sum(1 for f in report.findings if f.status is s) for s in (Status.UNKNOWN, Status.ERROR)}
    if counts[Status.UNKNOWN] or counts[Status.ERROR]:
        yield ""
        unknown, errors = counts[Status.UNKNOWN], counts[Status.ERROR]
        yield f"Not scored: {unknown} unknown (inputs unreadable), {errors} check errors."
        for status, label in ((Status.UNKNOWN, "Unknown"), (Status.ERROR, "Errors")):
            ids = sorted({f.check_id for f in report.findings if f.status is status})
            if ids:
                yield f"  {label}: {', '.join(ids)}"
    yield from waiver_lines(report)
    yield ""
    yield waiver_source_line(report)
    for note in report.collection.notes:
        yield f"Note: {safe_text(note, 300)}"
    age = report.calendar_age_days()
    yield f"Release calendar as of {report.calendar.as_of.isoformat()} ({age} days old)."


def waiver_source_line(report: Report) -> str:
    summary = report.waivers
    if report.as_recorded:
        return "Waivers: as recorded in the snapshot."
    source = f"from {safe_text(summary.source, 300)}" if summary.source else "no waivers file"
    annotations = "annotation waivers honoured" if summary.annotations else "annotation waivers ignored"
    return f"Waivers: {source}; {annotations}; expiry judged as of {summary.as_of or 'today'}."


def report_dict(report: Report, findings: Callable[[Iterator[Any]], Any] = list) -> dict[str, Any]:
    """The JSON report: stable keys, documented in the README (schema k8saudit.report/1).
    `findings` receives the findings' dicts, each made when it asks for it, and returns what is
    written: a list by default; `export.Streamed` for a writer that passes each on as it comes."""
    inv = report.inventory
    scores = report.scores
    return {
        "schema": REPORT_SCHEMA,
        "tool": {"name": "k8saudit", "version": __version__},
        "cluster": {**inv.cluster.to_dict(), "provider": inv.provider.name},
        "collection": report.collection.to_dict(),
        "as_recorded": report.as_recorded,
        "version_mismatch": version_mismatch(report),
        "calendar": {
            "as_of": report.calendar.as_of.isoformat(),
            "age_days": report.calendar_age_days(),
            "source": report.calendar.source,
        },
        "coverage": {key: cov.to_dict() for key, cov in inv.coverage.items()},
        "scores": scores.to_dict(),
        "top_fixes": [
            {"check_id": cid, "points": round(points, 2), "subjects": count}
            for cid, points, count in scores.top_fixes(20)
        ],
        "findings": findings(
            {
                **f.to_dict(),
                "severity": report.checks[f.check_id].severity.value if f.check_id in report.checks else None,
                "area": report.checks[f.check_id].area if f.check_id in report.checks else None,
                "points": round(scores.points_for(f), 3),
            }
            for f in report.findings
        ),
        "waivers": report.waivers.to_dict(),
        "checks": {cid: meta.to_dict() for cid, meta in report.checks.items()},
    }
