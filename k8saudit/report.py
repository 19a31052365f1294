"""A report: the inventory, the findings of the checks over it, and their scores.

Live scans and saved snapshots arrive here the same way: an inventory plus how it was
collected goes through `evaluate()`, which runs the current checks, applies the waivers (the one
place they take effect, so scan, report, diff, TUI and fleet agree) and scores the result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import orjson

from k8saudit import __version__, heap
from k8saudit.engine import run_checks
from k8saudit.inventory import Inventory
from k8saudit.model import Finding
from k8saudit.probe import ProbeRun, detach, merge_runs, named_targets
from k8saudit.probe import attach as attach_probe_results
from k8saudit.registry import CheckMeta, Config, Context, load_checks
from k8saudit.releases import ReleaseCalendar
from k8saudit.scoring import Scores, rescore_checks, score
from k8saudit.waivers import Waiver, WaiverPolicy, WaiverSummary, apply_waivers


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class CollectionInfo:
    """When and how the inventory was collected."""

    started_at: datetime
    finished_at: datetime
    tool_version: str = __version__
    notes: list[str] = field(default_factory=list)  # e.g. "TLS verification disabled"
    self_rules: dict[str, Any] | None = None  # SelfSubjectRulesReview status of the scanning identity
    probe: ProbeRun | None = None  # the opt-in exposure probe (`scan --probe`), when it ran

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "tool_version": self.tool_version,
            "notes": self.notes,
            "self_rules": self.self_rules,
            # Only when the opt-in probe ran: snapshots and reports without it stay as they were.
            **({"probe": self.probe.to_dict()} if self.probe is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CollectionInfo:
        return cls(
            started_at=_parse_time(data["started_at"]),
            finished_at=_parse_time(data["finished_at"]),
            tool_version=str(data.get("tool_version", "")),
            notes=[str(n) for n in data.get("notes") or []],
            self_rules=data.get("self_rules") if isinstance(data.get("self_rules"), dict) else None,
            probe=ProbeRun.from_dict(data["probe"]) if isinstance(data.get("probe"), dict) else None,
        )


def _parse_time(value: object) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(slots=True, repr=False)
class Report:
    inventory: Inventory
    collection: CollectionInfo
    findings: list[Finding]
    scores: Scores
    checks: dict[str, CheckMeta]
    calendar: ReleaseCalendar
    as_recorded: bool = False  # findings shown exactly as saved, not re-evaluated
    waivers: WaiverSummary = field(default_factory=WaiverSummary)  # what every waiver did
    fingerprint: str = ""  # of the code and settings that produced the findings (see below)

    @property
    def coverage_gaps(self) -> dict[str, Any]:
        """Kinds whose objects are not all known: forbidden, failed, or a built-in kind not served."""
        return {k: c for k, c in self.inventory.coverage.items() if not self.inventory.readable(k)}

    def calendar_age_days(self) -> int:
        return self.calendar.age_days(utcnow().date())

    @property
    def recorded_by_other_version(self) -> bool:
        """The snapshot was written by another k8saudit than the one evaluating it."""
        return self.collection.tool_version != __version__

    def __repr__(self) -> str:
        # Short on purpose: a dataclass repr would spell out the whole cluster. asyncio.run() has
        # the repr of its task's result made twice when it restores the SIGINT handler (Python
        # 3.11 formats the handler in an enum error): 5 s and 500 MB more for a 100k-pod scan.
        return f"<Report of {self.inventory.cluster.context!r}: {len(self.findings)} findings>"


@cache
def _code_digest() -> str:
    """A digest of the source of the core and the checks: what decides the findings."""
    import checks

    digest = hashlib.sha256(__version__.encode())
    for package in (Path(__file__).parent, Path(checks.__file__).parent):
        for source in sorted(package.glob("*.py")):
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def evaluation_fingerprint(checks: dict[str, CheckMeta], config: Config, calendar: ReleaseCalendar) -> str:
    """Identifies everything the findings of an inventory depend on besides the inventory itself:
    the code, the catalog, the settings and the release calendar. Two evaluations with the same
    fingerprint over the same inventory give the same findings (checks are deterministic and
    judge as of the collection time)."""
    digest = hashlib.sha256(_code_digest().encode())
    digest.update(orjson.dumps([(m.id, m.function.__qualname__) for m in checks.values()]))
    digest.update(orjson.dumps(asdict(config), option=orjson.OPT_SORT_KEYS, default=str))
    digest.update(orjson.dumps(calendar.to_dict(), option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def is_current(
    recorded_fingerprint: str, config: Config | None = None, calendar: ReleaseCalendar | None = None
) -> bool:
    """True when findings recorded with `recorded_fingerprint` are what today's checks would say
    with `config` and `calendar` (defaults as in `evaluate`); a snapshot without one never is."""
    if not recorded_fingerprint:
        return False
    fingerprint = evaluation_fingerprint(
        load_checks(), config or Config(), calendar or ReleaseCalendar.shipped()
    )
    return recorded_fingerprint == fingerprint


def evaluate(
    inventory: Inventory,
    collection: CollectionInfo,
    config: Config | None = None,
    calendar: ReleaseCalendar | None = None,
    recorded_findings: list[Finding] | None = None,
    waivers: WaiverPolicy | None = None,
    today: date | None = None,
    recorded_waivers: WaiverSummary | None = None,
    recorded_fingerprint: str = "",
    stop: Callable[[], bool] | None = None,
) -> Report:
    """Run the current checks over `inventory`, judged as of its collection time, apply `waivers`
    (default: annotation waivers only) with expiry judged as of `today` (default: the real
    today: a risk accepted until last week is not accepted any more), and score them.

    With `recorded_findings`, those are scored instead, with the waiver marks they were saved
    with (a snapshot shown exactly as saved); `recorded_waivers` is what the waivers did then.
    `stop` is asked between checks: when it says so, `engine.Stopped` is raised.
    """
    checks = load_checks()
    calendar = calendar or ReleaseCalendar.shipped()
    config = config or Config()
    if recorded_findings is not None:
        scores = score(recorded_findings, checks, config.area_weights)
        summary = recorded_waivers or WaiverSummary()
        return Report(
            inventory,
            collection,
            recorded_findings,
            scores,
            checks,
            calendar,
            True,
            summary,
            recorded_fingerprint,
        )
    fingerprint = evaluation_fingerprint(checks, config, calendar)
    context = Context(now=collection.finished_at, calendar=calendar, config=config)
    findings = run_checks(inventory, context, checks.values(), stop)
    if collection.probe is not None:  # what the probe saw then, on today's findings
        attach_probe_results(findings, collection.probe)
    return _waived_and_scored(
        inventory, collection, findings, checks, calendar, config, waivers, today, fingerprint
    )


class RecordedFinding(Protocol):
    """A finding as a snapshot recorded it (a `Finding`, or the loader's decoded form)."""

    def unwaived(self) -> Finding: ...


def reevaluate_or_reuse(
    inventory: Inventory,
    collection: CollectionInfo,
    recorded_findings: Sequence[RecordedFinding],
    recorded_fingerprint: str,
    config: Config | None = None,
    calendar: ReleaseCalendar | None = None,
    waivers: WaiverPolicy | None = None,
    today: date | None = None,
    stop: Callable[[], bool] | None = None,
) -> Report:
    """`evaluate()` for a saved inventory, skipping the checks when they would say exactly what
    they said when it was saved: same code, catalog, settings and calendar (the fingerprint).
    Today's waivers are applied either way. A 100k-pod snapshot opens in seconds instead of
    re-running every check; a snapshot from another version or with other settings is re-checked."""
    calendar = calendar or ReleaseCalendar.shipped()
    config = config or Config()
    if not is_current(recorded_fingerprint, config, calendar):
        return evaluate(inventory, collection, config, calendar, waivers=waivers, today=today, stop=stop)
    # Fresh copies without the waiver marks of then: the recorded ones stay as they were saved.
    with heap.gc_paused():  # one pause for the copies, their waivers and scores (k8saudit.heap)
        findings = [f.unwaived() for f in recorded_findings]
        return _waived_and_scored(
            inventory,
            collection,
            findings,
            load_checks(),
            calendar,
            config,
            waivers,
            today,
            recorded_fingerprint,  # today's, as is_current says
        )


def _waived_and_scored(
    inventory: Inventory,
    collection: CollectionInfo,
    findings: list[Finding],
    checks: dict[str, CheckMeta],
    calendar: ReleaseCalendar,
    config: Config,
    waivers: WaiverPolicy | None,
    today: date | None,
    fingerprint: str,
) -> Report:
    with heap.gc_paused():  # waiver marks and scores for 300k+ findings: acyclic (k8saudit.heap)
        summary = apply_waivers(
            findings, inventory, waivers or WaiverPolicy(), today or utcnow().date(), checks
        )
        scores = score(findings, checks, config.area_weights)
        heap.settle()  # they live as long as the report
    return Report(inventory, collection, findings, scores, checks, calendar, False, summary, fingerprint)


def rewaive(report: Report, waivers: WaiverPolicy, today: date, config: Config | None = None) -> Report:
    """`report` with `waivers` applied afresh and scored again, without running the checks again.

    What the TUI does after a waiver was written: the findings are copied (the old report stays
    as it was), in the same order, so a finding keeps its position. An as-recorded report keeps
    its recorded waiver marks: there is nothing to re-apply to it.
    """
    if report.as_recorded:
        return report
    findings = [replace(f) for f in report.findings]
    summary = apply_waivers(findings, report.inventory, waivers, today, report.checks)
    scores = score(findings, report.checks, (config or Config()).area_weights)
    return Report(
        report.inventory,
        report.collection,
        findings,
        scores,
        report.checks,
        report.calendar,
        False,
        summary,
        report.fingerprint,
    )


@dataclass(frozen=True, slots=True)
class WaiverEffect:
    """What a waiver would change once written: how many findings it waives, and the overall
    score before and after."""

    waived: int
    before: float | None
    after: float | None

    @property
    def points(self) -> float:
        """The change of the overall score. It can be negative: a waived warning (half a credit)
        leaves a check that earns less than that, or an area loses its best-scored check."""
        if self.before is None or self.after is None:
            return 0.0
        return self.after - self.before

    def describe(self) -> str:
        if not self.waived:
            return "It waives no failing finding: the score does not change."
        findings = f"{self.waived} failing finding" + ("" if self.waived == 1 else "s")
        before, after = _overall(self.before), _overall(self.after)
        if round(self.points, 2) == 0:
            return f"It waives {findings}; the score stays at {before}."
        return f"It waives {findings}; the score goes from {before} to {after} ({self.points:+.2f} points)."


def _overall(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def waiver_effect(report: Report, waiver: Waiver, today: date) -> WaiverEffect:
    """What `waiver`, appended to the waivers file in effect, would do to `report`'s score.

    `apply_waivers` with this waiver alone, on copies of the findings of its checks that no
    waiver holds (appended last, it never takes a finding an earlier waiver waives), then those
    checks scored again (`rescore_checks`): what `rewaive` would give once the waiver is written,
    without touching `report`, at the cost of those checks' findings only. Pure: no file is read.
    The TUI's waiver dialog shows it per scope."""
    matched = {check_id for check_id in report.checks if waiver.matches_check(check_id)}
    theirs = [f for f in report.findings if f.check_id in matched]
    held = [f for f in theirs if f.waiver is not None]
    copies = [replace(f) for f in theirs if f.waiver is None]
    summary = apply_waivers(copies, report.inventory, WaiverPolicy((waiver,), annotations=False), today)
    after = rescore_checks(report.scores, [*held, *copies], matched, report.checks)
    return WaiverEffect(summary.waived, report.scores.overall, after.overall)


def record_probe(collection: CollectionInfo, run: ProbeRun, origin: str) -> None:
    """Keep a probing pass with the collection (merged with earlier passes, saved with the
    snapshot) and say in the notes when it ran, what started it and what it tried."""
    collection.probe = merge_runs(collection.probe, run)
    collection.notes.append(run.note(origin))


def with_probe_results(report: Report, run: ProbeRun, origin: str) -> Report:
    """`report` with one more probing pass attached, the old report left as it was (the UI swaps
    the new one in, like `rewaive`).

    Every finding naming an address of `run` is copied and gets the latest results for all the
    addresses it names (an address probed again replaces its older answer); the other findings
    are shared. Statuses do not change (the probe adds evidence, the checks decide), so neither
    do the scores."""
    collection = replace(report.collection, notes=list(report.collection.notes))
    record_probe(collection, run, origin)
    assert collection.probe is not None
    probed = {r.url for r in run.results}
    findings, changed = [], []
    for finding in report.findings:
        if any(t.url in probed for t in named_targets(finding)):
            finding = replace(finding, evidence=dict(finding.evidence))
            detach(finding)
            changed.append(finding)
        findings.append(finding)
    attach_probe_results(changed, collection.probe)
    return replace(report, collection=collection, findings=findings)
