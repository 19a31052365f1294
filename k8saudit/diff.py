"""What changed between two reports of a cluster: findings, scores and objects.

Findings are matched by `Finding.key` (check id + subject) and sorted into:
- new:       a problem (fail/warn) now; before it passed, was not applicable, or did not exist;
- resolved:  a problem before; now it passes, is not applicable, or is gone;
- changed:   another verdict that matters: fail <-> warn, a problem or a pass that became
             unknown/error (or the reverse: visibility lost or regained), or a problem that became
             waived or lost its waiver;
- unchanged: the same problem with the same status in both.
Passing subjects that came or went are counted, not listed. Every list is worst first: by
severity, then by the worse of the two statuses (a resolved failure ranks as the failure it was).

A finding is only "gone" from a report that could see it: when that report could not read the
check's inputs or the subject's kind completely (forbidden, failed), the engine replaced the
check's findings with one cluster-level `unknown`, or the subject's objects were never listed.
Its absence there proves nothing, so the subject counts as `unknown` on that side, with the
reason (`FindingChange.unseen`): visibility lost is a change, not a fix.

Both reports are normally evaluated with today's checks and waivers (`diff_snapshots`), so a
difference is a change in the cluster, not in k8saudit; `as_recorded` compares them as saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from k8saudit import __version__
from k8saudit.inventory import KINDS_BY_KEY, KINDS_BY_KIND, Inventory
from k8saudit.model import Finding, Status
from k8saudit.readers import name_of, namespace_of
from k8saudit.registry import AREAS, CheckMeta, Config
from k8saudit.report import Report
from k8saudit.textsafe import safe_text
from k8saudit.waivers import WaiverPolicy

DIFF_SCHEMA = "k8saudit.diff/1"
NEW = "new"
RESOLVED = "resolved"
CHANGED = "changed"
UNCHANGED = "unchanged"
_GOOD_OR_ABSENT = (None, Status.PASS, Status.NOT_APPLICABLE)
_BLIND = (Status.UNKNOWN, Status.ERROR)
JSON_PLACES = 2  # scores in `--format json`
SHOWN_PLACES = 1  # scores in the text and the TUI


@dataclass(slots=True)
class FindingChange:
    """One check × subject in both reports (`old`/`new` None where it is absent)."""

    change: str  # NEW, RESOLVED, CHANGED or UNCHANGED
    old: Finding | None
    new: Finding | None
    meta: CheckMeta | None  # the check, as the newer report knows it
    # Why the side without a finding could not see the subject ("" when it could): that side's
    # verdict is then `unknown`, not "absent" or "gone".
    unseen: str = ""

    @property
    def finding(self) -> Finding:
        """The finding to show: the new one, or the old one if it is gone."""
        return self.new or self.old  # type: ignore[return-value]

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.finding.key

    @property
    def severity(self) -> str:
        return self.meta.severity.value if self.meta else "unknown"

    @property
    def unseen_side(self) -> str | None:
        """Which report could not see the subject, "old" or "new" (None when both could)."""
        if not self.unseen:
            return None
        return "old" if self.old is None else "new"

    @property
    def old_status(self) -> str | None:
        return self._label(self.old)

    @property
    def new_status(self) -> str | None:
        return self._label(self.new)

    def _label(self, finding: Finding | None) -> str | None:
        if finding is None and self.unseen:
            return Status.UNKNOWN.value
        return _status_label(finding)

    def transition(self, arrow: str = "->") -> str:
        """How the verdict moved ("fail -> gone", "fail -> unknown", "absent -> warn"); the status
        alone when unchanged."""
        if self.change == UNCHANGED:
            return self.new_status or ""
        return f"{self.old_status or 'absent'} {arrow} {self.new_status or 'gone'}"

    @property
    def message(self) -> str:
        """The finding's message, after why one side could not see its subject."""
        side = self.unseen_side
        if side is None:
            return self.finding.message
        when = "before" if side == "new" else "now"
        return f"not visible in {side.upper()}: {self.unseen}; {when}: {self.finding.message}"

    def sort_key(self) -> tuple[Any, ...]:
        # The problem's status is the worse side: a resolved failure ranks as the failure it was,
        # a new one as what it is now, fail -> unknown as the failure nobody can see any more.
        statuses = (_seen_status(f, bool(self.unseen)) for f in (self.old, self.new))
        status_rank = min(s.rank for s in statuses if s is not None)
        severity_rank = self.meta.severity.rank if self.meta else 9
        return (severity_rank, status_rank, self.finding.check_id, self.finding.subject)

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        side = self.unseen_side
        return {
            "change": self.change,
            "check_id": f.check_id,
            "title": self.meta.title if self.meta else None,
            "severity": self.meta.severity.value if self.meta else None,
            "area": self.meta.area if self.meta else None,
            "subject": f.subject.to_dict(),
            "old_status": self.old_status,
            "new_status": self.new_status,
            "message": f.message,
            "waiver": self.new.waiver if self.new else None,
            "unseen": None if side is None else {"side": side, "reason": self.unseen},
        }


def _status_label(finding: Finding | None) -> str | None:
    if finding is None:
        return None
    return f"{finding.status.value} (waived)" if finding.waived else finding.status.value


def _seen_status(finding: Finding | None, unseen: bool) -> Status | None:
    """The verdict of one side: its finding's status, `unknown` where the subject could not be
    seen, None where it is really absent. `unseen` only counts for an absent finding."""
    if finding is not None:
        return finding.status
    return Status.UNKNOWN if unseen else None


@dataclass(frozen=True, slots=True)
class ScoreDelta:
    name: str  # an area, or "overall"
    old: float | None
    new: float | None
    old_grade: str
    new_grade: str

    def shown_delta(self, places: int) -> float | None:
        """The change between the scores as shown with `places` decimals: the difference of the
        rounded scores, so that old + delta = new in what the reader sees (rounding each of
        old, new and delta alone printed 63.93 -> 63.92 as -0.02)."""
        if self.old is None or self.new is None:
            return None
        # rounded again: the difference of two rounded floats carries binary noise (0.30000000000000004)
        return round(round(self.new, places) - round(self.old, places), places)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": None if self.old is None else round(self.old, JSON_PLACES),
            "new": None if self.new is None else round(self.new, JSON_PLACES),
            "delta": self.shown_delta(JSON_PLACES),
            "old_grade": self.old_grade,
            "new_grade": self.new_grade,
        }


@dataclass(slots=True)
class ObjectChanges:
    """Objects of one kind that appeared or disappeared, as (namespace, name)."""

    kind: str
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def shown(items: list[tuple[str, str]]) -> list[dict[str, str]]:
            return [{"namespace": ns, "name": name} for ns, name in items]

        return {"added": shown(self.added), "removed": shown(self.removed)}


@dataclass(frozen=True, slots=True)
class CoverageChange:
    kind: str
    old: str
    new: str


@dataclass(slots=True, repr=False)
class Diff:
    """Everything a diff view needs; `old` and `new` are the two full reports."""

    old: Report
    new: Report
    new_findings: list[FindingChange]
    resolved: list[FindingChange]
    changed: list[FindingChange]
    unchanged: list[FindingChange]
    passing_added: int  # passing subjects that appeared (new objects that are fine)
    passing_removed: int
    overall: ScoreDelta
    areas: dict[str, ScoreDelta]
    objects: dict[str, ObjectChanges]  # by Kind; only kinds read completely in both
    coverage: list[CoverageChange]  # kinds whose coverage state changed (their objects not compared)
    notes: list[str]

    def __repr__(self) -> str:  # short, as Report's: never the two whole reports
        counts = f"{len(self.new_findings)} new, {len(self.resolved)} resolved"
        return f"<Diff {self.old!r} -> {self.new!r}: {counts}>"

    @property
    def as_recorded(self) -> bool:
        return self.old.as_recorded

    def to_dict(self) -> dict[str, Any]:
        def side(report: Report) -> dict[str, Any]:
            cluster = report.inventory.cluster
            return {
                "context": cluster.context,
                "server": cluster.server,
                "version": cluster.git_version,
                "collected_at": report.collection.finished_at.isoformat(),
                "tool_version": report.collection.tool_version,
            }

        return {
            "schema": DIFF_SCHEMA,
            "tool": {"name": "k8saudit", "version": __version__},
            "as_recorded": self.as_recorded,
            "old": side(self.old),
            "new": side(self.new),
            "scores": {
                "overall": self.overall.to_dict(),
                "areas": {a: d.to_dict() for a, d in self.areas.items()},
            },
            "counts": {
                NEW: len(self.new_findings),
                RESOLVED: len(self.resolved),
                CHANGED: len(self.changed),
                UNCHANGED: len(self.unchanged),
                "passing_added": self.passing_added,
                "passing_removed": self.passing_removed,
            },
            "findings": {
                NEW: [c.to_dict() for c in self.new_findings],
                RESOLVED: [c.to_dict() for c in self.resolved],
                CHANGED: [c.to_dict() for c in self.changed],
                UNCHANGED: [c.to_dict() for c in self.unchanged],
            },
            "objects": {kind: changes.to_dict() for kind, changes in self.objects.items()},
            "coverage": [{"kind": c.kind, "old": c.old, "new": c.new} for c in self.coverage],
            "notes": self.notes,
        }


def classify(old: Finding | None, new: Finding | None, *, unseen: bool = False) -> str | None:
    """NEW, RESOLVED, CHANGED, UNCHANGED, or None for a transition not worth listing.

    `unseen`: the side without a finding could not see the subject (see `Visibility`): it counts as
    `unknown` there, not as absent."""
    o = _seen_status(old, unseen)
    n = _seen_status(new, unseen)
    o_problem = o in (Status.FAIL, Status.WARN)
    n_problem = n in (Status.FAIL, Status.WARN)
    if n_problem and o in _GOOD_OR_ABSENT:
        return NEW
    if o_problem and n in _GOOD_OR_ABSENT:
        return RESOLVED
    if o == n and _waived(old) == _waived(new):
        return UNCHANGED if n_problem else None
    # an unknown/error that came or went (a check that could no longer, or again, be evaluated)
    # is visibility lost or regained: listed, never dropped
    if o_problem or n_problem or o in _BLIND or n in _BLIND:
        return CHANGED
    return None  # pass <-> not-applicable, or a pass that came or went


def _waived(finding: Finding | None) -> bool:
    return finding is not None and finding.waived


class Visibility:
    """What one report could see. A finding absent from it is "gone" only if the report read
    everything the finding depends on: the check's declared inputs (or the engine replaced the
    check's findings with one `unknown`) and the subject's kind (or its objects were not listed:
    EXP-007 reads no declared input, yet its CronJob subjects vanish when CronJobs are forbidden)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self._reasons: dict[tuple[str, str], str] = {}  # by (check id, subject kind)

    def why_unseen(self, finding: Finding) -> str:
        """Why this report cannot tell what `finding`'s check says of its subject ("" if it can)."""
        key = (finding.check_id, finding.subject.kind)
        reason = self._reasons.get(key)
        if reason is None:
            reason = self._reasons[key] = self._unreadable(*key)
        return reason

    def _unreadable(self, check_id: str, subject_kind: str) -> str:
        inventory = self.report.inventory
        meta = self.report.checks.get(check_id)
        needed = list(meta.inputs) if meta else []
        if subject_kind in KINDS_BY_KIND:
            needed.append(KINDS_BY_KIND[subject_kind].key)
        missing = [key for key in dict.fromkeys(needed) if not inventory.readable(key)]
        return inventory.unreadable_reasons(missing)


@dataclass(slots=True)
class _Matched:
    """The findings of two reports, matched and sorted into the four lists."""

    buckets: dict[str, list[FindingChange]] = field(
        default_factory=lambda: {NEW: [], RESOLVED: [], CHANGED: [], UNCHANGED: []}
    )
    passing_added: int = 0
    passing_removed: int = 0

    def count_passing(self, before: Finding | None, after: Finding | None) -> None:
        """Count a passing subject that came or went (not listed: new objects that are fine)."""
        if before is None and after is not None and after.status is Status.PASS:
            self.passing_added += 1
        elif after is None and before is not None and before.status is Status.PASS:
            self.passing_removed += 1


def _unseen_reason(
    before: Finding | None, after: Finding | None, old_visibility: Visibility, new_visibility: Visibility
) -> str:
    """Why the report without a finding for this check × subject could not see the subject
    ("" when it could, or when both reports have a finding)."""
    if before is None and after is not None:
        return old_visibility.why_unseen(after)
    if after is None and before is not None:
        return new_visibility.why_unseen(before)
    return ""


def _match_findings(old: Report, new: Report) -> _Matched:
    old_by_key = {f.key: f for f in old.findings}
    new_by_key = {f.key: f for f in new.findings}
    old_visibility, new_visibility = Visibility(old), Visibility(new)
    matched = _Matched()
    for key in old_by_key.keys() | new_by_key.keys():
        before, after = old_by_key.get(key), new_by_key.get(key)
        unseen = _unseen_reason(before, after, old_visibility, new_visibility)
        change = classify(before, after, unseen=bool(unseen))
        if change is None:
            matched.count_passing(before, after)
            continue
        check_id = key[0]
        meta = new.checks.get(check_id) or old.checks.get(check_id)
        matched.buckets[change].append(FindingChange(change, before, after, meta, unseen))
    for items in matched.buckets.values():
        items.sort(key=FindingChange.sort_key)
    return matched


def _score_delta(name: str, old: Report, new: Report) -> ScoreDelta:
    if name == "overall":
        return ScoreDelta(name, old.scores.overall, new.scores.overall, old.scores.grade, new.scores.grade)
    before, after = old.scores.areas[name], new.scores.areas[name]
    return ScoreDelta(name, before.score, after.score, before.grade, after.grade)


def diff_reports(old: Report, new: Report) -> Diff:
    matched = _match_findings(old, new)
    objects, coverage = _object_changes(old.inventory, new.inventory)
    return Diff(
        old=old,
        new=new,
        new_findings=matched.buckets[NEW],
        resolved=matched.buckets[RESOLVED],
        changed=matched.buckets[CHANGED],
        unchanged=matched.buckets[UNCHANGED],
        passing_added=matched.passing_added,
        passing_removed=matched.passing_removed,
        overall=_score_delta("overall", old, new),
        areas={area: _score_delta(area, old, new) for area in AREAS},
        objects=objects,
        coverage=coverage,
        notes=_notes(old, new),
    )


def _identities(inventory: Inventory, key: str) -> set[tuple[str, str]]:
    return {(namespace_of(o), name_of(o)) for o in inventory.items(key)}


def _object_changes(old: Inventory, new: Inventory) -> tuple[dict[str, ObjectChanges], list[CoverageChange]]:
    """Objects added/removed per kind, for kinds read completely in both; coverage changes for
    the rest (a kind that became forbidden did not lose its objects)."""
    objects: dict[str, ObjectChanges] = {}
    coverage: list[CoverageChange] = []
    for key in sorted(old.coverage.keys() | new.coverage.keys(), key=_kind_order):
        kind = KINDS_BY_KEY[key].kind if key in KINDS_BY_KEY else key
        old_state, new_state = old.coverage_of(key).state, new.coverage_of(key).state
        if old_state != new_state:
            coverage.append(CoverageChange(kind, old_state, new_state))
        if key not in KINDS_BY_KEY or not (old.readable(key) and new.readable(key)):
            continue
        before, after = _identities(old, key), _identities(new, key)
        if before != after:
            objects[kind] = ObjectChanges(kind, sorted(after - before), sorted(before - after))
    return objects, coverage


_KIND_POSITION = {key: index for index, key in enumerate(KINDS_BY_KEY)}


def _kind_order(key: str) -> tuple[int, str]:
    return (_KIND_POSITION.get(key, len(_KIND_POSITION)), key)


def _notes(old: Report, new: Report) -> list[str]:
    notes = []
    a, b = old.inventory.cluster, new.inventory.cluster
    if (a.server, a.context) != (b.server, b.context):
        notes.append(
            f"comparing different clusters: {safe_text(a.context, 80)} ({safe_text(a.server, 120)}) "
            f"and {safe_text(b.context, 80)} ({safe_text(b.server, 120)})"
        )
    if old.collection.finished_at > new.collection.finished_at:
        notes.append("OLD was collected after NEW: the changes read backwards in time")
    if old.as_recorded:
        versions = {old.collection.tool_version, new.collection.tool_version}
        if len(versions) > 1:
            notes.append(
                "as recorded by different k8saudit versions "
                f"({', '.join(sorted(safe_text(v, 40) for v in versions))}): check changes show as findings"
            )
    return notes


def diff_snapshots(
    old_path: str,
    new_path: str,
    *,
    as_recorded: bool = False,
    config: Config | None = None,
    waivers: WaiverPolicy | None = None,
    max_bytes: int | None = None,
) -> Diff:
    """Load two snapshot files and diff them, both evaluated the same way."""
    from k8saudit.snapshot import DEFAULT_MAX_BYTES, load

    reports = []
    for path in (old_path, new_path):
        snapshot = load(path, max_bytes or DEFAULT_MAX_BYTES)
        reports.append(snapshot.report(as_recorded=as_recorded, config=config, waivers=waivers))
    return diff_reports(reports[0], reports[1])


# -- rendering ----------------------------------------------------------------------------------


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.{SHOWN_PLACES}f}"


def delta_label(d: ScoreDelta) -> str | None:
    """The change as the scores are shown (one decimal): "+0.4", "-0.5", or "±0.0" for a change
    too small to show (no sign, no arrow: 63.9 -> 63.9 did not go down); None without a score."""
    delta = d.shown_delta(SHOWN_PLACES)
    if delta is None:
        return None
    return f"{delta:+.{SHOWN_PLACES}f}" if delta else f"±{0:.{SHOWN_PLACES}f}"


def _delta(d: ScoreDelta) -> str:
    label = delta_label(d)
    scores = f"{_score(d.old)} -> {_score(d.new)}"
    return scores if label is None else f"{scores} ({label})"


def _trend(d: ScoreDelta) -> str:
    delta = d.shown_delta(SHOWN_PLACES)
    return "" if not delta else ("  ▲" if delta > 0 else "  ▼")


def render_diff_text(diff: Diff) -> str:
    old, new = diff.old, diff.new
    lines = [
        f"k8saudit diff — {safe_text(old.inventory.cluster.context, 80)} "
        f"{old.collection.finished_at:%Y-%m-%d %H:%M} -> {safe_text(new.inventory.cluster.context, 80)} "
        f"{new.collection.finished_at:%Y-%m-%d %H:%M} UTC",
        "Compared as recorded in the snapshots."
        if diff.as_recorded
        else f"Both evaluated with the checks and waivers of k8saudit {__version__}.",
    ]
    lines += [f"Note: {n}" for n in diff.notes]
    lines += ["", f"Overall: {diff.overall.old_grade} -> {diff.overall.new_grade}  {_delta(diff.overall)}"]
    for area, d in diff.areas.items():
        if d.old is None and d.new is None:
            continue
        lines.append(f"  {area:<11} {d.old_grade} -> {d.new_grade}  {_delta(d)}{_trend(d)}")
    sections: Iterable[tuple[str, list[FindingChange]]] = (
        ("New findings", diff.new_findings),
        ("Resolved", diff.resolved),
        ("Changed", diff.changed),
        ("Unchanged problems", diff.unchanged),
    )
    for title, changes in sections:
        lines += ["", f"{title} ({len(changes)}):" if changes else f"{title}: none."]
        for c in changes:
            f = c.finding
            lines.append(
                f"  {c.severity.upper():<8} {f.check_id:<9} {safe_text(f.subject, 120)}: "
                f"{c.transition()} — {safe_text(c.message, 240)}"
            )
    if diff.passing_added or diff.passing_removed:
        lines += ["", f"Passing subjects: +{diff.passing_added} new, -{diff.passing_removed} gone."]
    if diff.objects:
        lines += ["", "Objects:"]
        for kind, changes in diff.objects.items():
            lines.append(f"  {kind}: +{len(changes.added)} -{len(changes.removed)}")
            for sign, items in (("+", changes.added), ("-", changes.removed)):
                for ns, name in items[:20]:
                    lines.append(f"    {sign} {safe_text(f'{ns}/{name}' if ns else name, 200)}")
                if len(items) > 20:
                    lines.append(f"    {sign} … {len(items) - 20} more")
    if diff.coverage:
        lines += ["", "Coverage changed (objects of these kinds not compared):"]
        lines += [f"  {c.kind}: {c.old} -> {c.new}" for c in diff.coverage]
    return "\n".join(lines) + "\n"
